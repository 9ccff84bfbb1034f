using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// One event on the timeline, in occurredAt order; <see cref="Note"/> says what the worker made of it where that is not
/// plain from the event (an <c>offer_redeemed</c>: the offer used, or why not).
/// </summary>
public sealed record TimelineEventView(
    string EventId, string Type, DateTimeOffset OccurredAt, DateTimeOffset ReceivedAt,
    string? CustomerId, string? AnonymousId, JsonNode? Traits, JsonNode? Properties, JsonNode? Context, string? Note = null);
