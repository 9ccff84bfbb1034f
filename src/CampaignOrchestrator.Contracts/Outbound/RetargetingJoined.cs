using System.Text.Json.Serialization;

namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>The customer joined <paramref name="Audience"/>, identified by the SHA-256 (hex) of their trimmed, lower-cased email, until <paramref name="ExpiresAt"/>.</summary>
public sealed record RetargetingJoined(
    string ActionId, string CampaignId, int Step, string? CustomerId, string? AnonymousId, string? Phase, DateTimeOffset OccurredAt,
    string CauseEventId, int Variant,
    string Audience,
    string EmailSha256,
    DateTimeOffset ExpiresAt) : ICampaignActionEvent
{
    /// <summary>The routing key: <c>retargeting.joined</c>.</summary>
    public const string Type = "retargeting.joined";

    /// <inheritdoc/>
    [JsonIgnore]
    public string RoutingKey => Type;
}
