using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Core.Events;

/// <summary>
/// A journey event that passed every rule of wire contract v1. Ids are trimmed of nothing:
/// they are taken exactly as published. <see cref="OccurredAt"/> keeps the publisher's offset.
/// </summary>
public sealed record AcceptedEvent(
    string EventId,
    string Type,
    DateTimeOffset OccurredAt,
    string? CustomerId,
    string? AnonymousId,
    JsonObject? Traits,
    JsonObject? Properties,
    JsonObject? Context)
{
    /// <summary>True when the event links a device to an account (it carries both ids).</summary>
    public bool LinksIdentity => CustomerId is not null && AnonymousId is not null;
}
