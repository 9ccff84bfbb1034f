using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Core.Events;

/// <summary>
/// A journey event that passed every rule of wire contract v1. Ids are taken exactly as published;
/// <see cref="OccurredAt"/> keeps the publisher's offset. The objects are kept as the JSON text that
/// was published (what the store writes) and parsed on first use.
/// </summary>
public sealed record AcceptedEvent
{
    JsonObject? _traits, _properties, _context;

    /// <summary>Creates an event from parsed objects (tests, internal producers).</summary>
    public AcceptedEvent(string eventId, string type, DateTimeOffset occurredAt, string? customerId, string? anonymousId,
        JsonObject? traits, JsonObject? properties, JsonObject? context)
        : this(eventId, type, occurredAt, customerId, anonymousId, traits?.ToJsonString(), properties?.ToJsonString(), context?.ToJsonString())
    {
    }

    AcceptedEvent(string eventId, string type, DateTimeOffset occurredAt, string? customerId, string? anonymousId,
        string? traitsJson, string? propertiesJson, string? contextJson)
    {
        EventId = eventId;
        Type = type;
        OccurredAt = occurredAt;
        CustomerId = customerId;
        AnonymousId = anonymousId;
        TraitsJson = traitsJson;
        PropertiesJson = propertiesJson;
        ContextJson = contextJson;
    }

    /// <summary>Creates an event from JSON object texts that were already checked to be objects without duplicate keys.</summary>
    public static AcceptedEvent FromJson(string eventId, string type, DateTimeOffset occurredAt, string? customerId, string? anonymousId,
        string? traitsJson, string? propertiesJson, string? contextJson) =>
        new(eventId, type, occurredAt, customerId, anonymousId, traitsJson, propertiesJson, contextJson);

    /// <summary>The W3C <c>traceparent</c> of the span that consumed it, when tracing records it (not part of the contract).</summary>
    public string? TraceParent { get; init; }

    /// <summary>The idempotency key.</summary>
    public string EventId { get; }

    /// <summary>The event type.</summary>
    public string Type { get; }

    /// <summary>When it happened, with the publisher's offset.</summary>
    public DateTimeOffset OccurredAt { get; }

    /// <summary>The known account, if any.</summary>
    public string? CustomerId { get; }

    /// <summary>The device, if any.</summary>
    public string? AnonymousId { get; }

    /// <summary>The traits object as published, or null.</summary>
    public string? TraitsJson { get; }

    /// <summary>The properties object as published, or null.</summary>
    public string? PropertiesJson { get; }

    /// <summary>The context object as published, or null.</summary>
    public string? ContextJson { get; }

    /// <summary>The traits, parsed on first use.</summary>
    public JsonObject? Traits => TraitsJson is null ? null : _traits ??= (JsonObject)JsonNode.Parse(TraitsJson)!;

    /// <summary>The properties, parsed on first use.</summary>
    public JsonObject? Properties => PropertiesJson is null ? null : _properties ??= (JsonObject)JsonNode.Parse(PropertiesJson)!;

    /// <summary>The context, parsed on first use.</summary>
    public JsonObject? Context => ContextJson is null ? null : _context ??= (JsonObject)JsonNode.Parse(ContextJson)!;

    /// <summary>True when the event links a device to an account (it carries both ids).</summary>
    public bool LinksIdentity => CustomerId is not null && AnonymousId is not null;
}
