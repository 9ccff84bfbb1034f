using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>What an operator sees of one customer (<c>GET /api/customers/{id}</c>).</summary>
public sealed record JourneyView(
    string ProfileId,
    string? CustomerId,
    IReadOnlyList<string> AnonymousIds,
    string? Phase,
    DateTimeOffset? PhaseSince,
    JsonObject Traits,
    int OrderCount,
    decimal OrderTotal,
    int EventCount,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    IReadOnlyList<PhaseHistoryView> PhaseHistory,
    IReadOnlyList<TimelineEventView> Timeline);
