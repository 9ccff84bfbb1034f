using System.Text.Json.Serialization;

namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>A banner was removed from its slot: <paramref name="Reason"/> is <c>expired</c> (its ttl ran out); the slot shows its default again.</summary>
public sealed record BannerCleared(
    string ActionId, string CampaignId, int Step, string? CustomerId, string? AnonymousId, string? Phase, DateTimeOffset OccurredAt,
    string CauseEventId, int Variant,
    string Slot,
    string Creative,
    string Reason) : ICampaignActionEvent
{
    /// <summary>The routing key: <c>banner.cleared</c>.</summary>
    public const string Type = "banner.cleared";

    /// <inheritdoc/>
    [JsonIgnore]
    public string RoutingKey => Type;
}
