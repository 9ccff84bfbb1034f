using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>One event on the timeline, in occurredAt order.</summary>
public sealed record TimelineEventView(
    string EventId, string Type, DateTimeOffset OccurredAt, DateTimeOffset ReceivedAt,
    string? CustomerId, string? AnonymousId, JsonNode? Traits, JsonNode? Properties, JsonNode? Context);
