using System.Text.Json.Serialization;

namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>An email step (or an offer with a template) was accepted by the SMTP server, with this Message-ID (<c>actionId@domain</c>, the same if it is ever sent again).</summary>
public sealed record EmailSent(
    string ActionId, string CampaignId, int Step, string? CustomerId, string? AnonymousId, string? Phase, DateTimeOffset OccurredAt,
    string CauseEventId, int Variant,
    string? Template,
    string MessageId) : ICampaignActionEvent
{
    /// <summary>The routing key: <c>email.sent</c>.</summary>
    public const string Type = "email.sent";

    /// <inheritdoc/>
    [JsonIgnore]
    public string RoutingKey => Type;
}
