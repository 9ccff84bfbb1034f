using System.Text.Json.Serialization;

namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>An email step failed for good (a refusal, no address, no template); a passing outage is never announced: the mail waits.</summary>
public sealed record EmailFailed(
    string ActionId, string CampaignId, int Step, string? CustomerId, string? AnonymousId, string? Phase, DateTimeOffset OccurredAt,
    string CauseEventId, int Variant,
    string? Template,
    string? Reason) : ICampaignActionEvent
{
    /// <summary>The routing key: <c>email.failed</c>.</summary>
    public const string Type = "email.failed";

    /// <inheritdoc/>
    [JsonIgnore]
    public string RoutingKey => Type;
}
