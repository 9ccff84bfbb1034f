using System.Text.Json;

namespace CampaignOrchestrator.Contracts.Inbound;

/// <summary>
/// A journey-stage event as a webshop publishes it to the <c>journey-events</c> topic exchange
/// (wire contract v1, <c>docs/wire-contract.md</c>). The JSON form is camelCase; this record
/// is what a .NET publisher sends through MassTransit, and both reach the same consumer.
/// </summary>
/// <remarks>
/// Invariants enforced by the worker (a message that breaks one goes to the error queue with
/// the reason in a header, never dropped): <see cref="EventId"/> 1-128 chars; <see cref="Type"/>
/// matches <c>^[a-z][a-z0-9_]{0,63}$</c>; <see cref="OccurredAt"/> carries an offset and is at most
/// 24 h in the future; at least one of <see cref="CustomerId"/> and <see cref="AnonymousId"/>;
/// the serialized body is at most 256 KiB.
/// </remarks>
public sealed record JourneyEvent
{
    /// <summary>Idempotency key: the same eventId delivered twice has its effect once.</summary>
    public required string EventId { get; init; }

    /// <summary>Event type, also used as the routing key (for example <c>cart_abandoned</c>).</summary>
    public required string Type { get; init; }

    /// <summary>When it happened at the source. Journeys are ordered by this, not by arrival.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>A known account id.</summary>
    public string? CustomerId { get; init; }

    /// <summary>A device or cookie id; linked to <see cref="CustomerId"/> when both are present.</summary>
    public string? AnonymousId { get; init; }

    /// <summary>Profile traits, merged per key with the newest occurredAt winning.</summary>
    public IReadOnlyDictionary<string, JsonElement>? Traits { get; init; }

    /// <summary>Event-specific properties (cartId, orderId, total, items, ...).</summary>
    public IReadOnlyDictionary<string, JsonElement>? Properties { get; init; }

    /// <summary>channel, device, source, campaign.</summary>
    public IReadOnlyDictionary<string, JsonElement>? Context { get; init; }
}
