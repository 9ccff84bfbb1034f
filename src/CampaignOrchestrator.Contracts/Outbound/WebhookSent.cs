using System.Text.Json.Serialization;

namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>A webhook step was answered 2xx by <paramref name="Url"/>.</summary>
public sealed record WebhookSent(
    string ActionId, string CampaignId, int Step, string? CustomerId, string? AnonymousId, string? Phase, DateTimeOffset OccurredAt,
    string CauseEventId, int Variant,
    string? Url) : ICampaignActionEvent
{
    /// <summary>The routing key: <c>webhook.sent</c>.</summary>
    public const string Type = "webhook.sent";

    /// <inheritdoc/>
    [JsonIgnore]
    public string RoutingKey => Type;
}
