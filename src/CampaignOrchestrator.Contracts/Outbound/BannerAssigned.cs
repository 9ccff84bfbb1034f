using System.Text.Json.Serialization;

namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>A banner step was delivered: <paramref name="Creative"/> is the customer's banner in <paramref name="Slot"/> until <paramref name="ExpiresAt"/> (null: until a later one replaces it).</summary>
public sealed record BannerAssigned(
    string ActionId, string CampaignId, int Step, string? CustomerId, string? AnonymousId, string? Phase, DateTimeOffset OccurredAt,
    string CauseEventId, int Variant,
    string Slot,
    string Creative,
    DateTimeOffset? ExpiresAt) : ICampaignActionEvent
{
    /// <summary>The routing key: <c>banner.assigned</c>.</summary>
    public const string Type = "banner.assigned";

    /// <inheritdoc/>
    [JsonIgnore]
    public string RoutingKey => Type;
}
