namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>
/// The fields every event on the <c>campaign-actions</c> exchange carries (wire contract v1, docs/wire-contract.md),
/// before the kind's own. Each event type is a sealed record that implements this; serialize and read them with
/// <see cref="OutboundJson"/>.
/// </summary>
public interface ICampaignActionEvent
{
    /// <summary>The routing key it is published under (<c>banner.assigned</c>, ...); not part of the body.</summary>
    string RoutingKey { get; }

    /// <summary>Stable: the same action is never published under two ids. With the routing key, the AMQP message id
    /// (<c>&lt;routing key&gt;:&lt;actionId&gt;</c>) a consumer deduplicates on.</summary>
    string ActionId { get; }

    /// <summary>The campaign (rules id) the action belongs to.</summary>
    string CampaignId { get; }

    /// <summary>The step of the campaign, from 1.</summary>
    int Step { get; }

    /// <summary>The known customer; null while only a device is known.</summary>
    string? CustomerId { get; }

    /// <summary>The device, when the customer is not known (yet); null otherwise.</summary>
    string? AnonymousId { get; }

    /// <summary>The customer's phase when it happened (null: no phase yet).</summary>
    string? Phase { get; }

    /// <summary>When it happened (UTC).</summary>
    DateTimeOffset OccurredAt { get; }

    /// <summary>The event (eventId) that triggered the campaign instance; a synthetic id for inactivity and schedules.</summary>
    string CauseEventId { get; }

    /// <summary>The variant of the step the customer got (0: the first or only one).</summary>
    int Variant { get; }
}
