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

/// <summary>One phase change.</summary>
public sealed record PhaseHistoryView(string Phase, DateTimeOffset At, string EventId);

/// <summary>One event on the timeline, in occurredAt order.</summary>
public sealed record TimelineEventView(
    string EventId, string Type, DateTimeOffset OccurredAt, DateTimeOffset ReceivedAt,
    string? CustomerId, string? AnonymousId, JsonNode? Traits, JsonNode? Properties, JsonNode? Context);
