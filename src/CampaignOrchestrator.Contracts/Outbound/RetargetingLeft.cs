using System.Text.Json.Serialization;

namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>The customer left <paramref name="Audience"/>: <paramref name="Reason"/> is <c>exit</c> (the campaign instance ended: a purchase ends the cart recovery) or <c>expired</c>.</summary>
public sealed record RetargetingLeft(
    string ActionId, string CampaignId, int Step, string? CustomerId, string? AnonymousId, string? Phase, DateTimeOffset OccurredAt,
    string CauseEventId, int Variant,
    string Audience,
    string EmailSha256,
    string Reason) : ICampaignActionEvent
{
    /// <summary>The routing key: <c>retargeting.left</c>.</summary>
    public const string Type = "retargeting.left";

    /// <inheritdoc/>
    [JsonIgnore]
    public string RoutingKey => Type;
}
