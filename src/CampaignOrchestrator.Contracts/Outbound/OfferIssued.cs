using System.Text.Json.Serialization;

namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>An offer step issued a coupon <paramref name="Code"/> with a percentage or an amount off, valid until <paramref name="ExpiresAt"/> (null: no end).</summary>
public sealed record OfferIssued(
    string ActionId, string CampaignId, int Step, string? CustomerId, string? AnonymousId, string? Phase, DateTimeOffset OccurredAt,
    string CauseEventId, int Variant,
    string Code,
    decimal? DiscountPercent,
    decimal? Amount,
    DateTimeOffset? ExpiresAt) : ICampaignActionEvent
{
    /// <summary>The routing key: <c>offer.issued</c>.</summary>
    public const string Type = "offer.issued";

    /// <inheritdoc/>
    [JsonIgnore]
    public string RoutingKey => Type;
}
