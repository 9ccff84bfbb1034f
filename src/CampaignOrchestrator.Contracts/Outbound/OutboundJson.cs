using System.Text.Json;
using System.Text.Json.Serialization;

namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>
/// The one place outbound events become JSON and back: camelCase names, the common fields first, nulls written
/// (a field of the contract is always present), timestamps ISO-8601 with offset.
/// </summary>
public static class OutboundJson
{
    /// <summary>The serializer options of every outbound body.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>The body of <paramref name="e"/> as published.</summary>
    public static string Serialize(ICampaignActionEvent e) => JsonSerializer.Serialize(e, e.GetType(), Options);

    /// <summary>The body of a webhook POST.</summary>
    public static string Serialize(WebhookPayload payload) => JsonSerializer.Serialize(payload, Options);

    /// <summary>Reads a body published under <typeparamref name="T"/>'s routing key.</summary>
    /// <exception cref="JsonException">The body is not JSON of that shape.</exception>
    public static T Deserialize<T>(string body) where T : ICampaignActionEvent =>
        JsonSerializer.Deserialize<T>(body, Options) ?? throw new JsonException("the body is null");

    /// <summary>The event type published under <paramref name="routingKey"/>, or null for a key the contract does not name.</summary>
    public static Type? TypeOf(string routingKey) => routingKey switch
    {
        BannerAssigned.Type => typeof(BannerAssigned),
        BannerCleared.Type => typeof(BannerCleared),
        OfferIssued.Type => typeof(OfferIssued),
        EmailSent.Type => typeof(EmailSent),
        EmailFailed.Type => typeof(EmailFailed),
        WebhookSent.Type => typeof(WebhookSent),
        RetargetingJoined.Type => typeof(RetargetingJoined),
        RetargetingLeft.Type => typeof(RetargetingLeft),
        _ => null,
    };

    /// <summary>Every routing key on the <c>campaign-actions</c> exchange.</summary>
    public static IReadOnlyList<string> RoutingKeys { get; } =
    [
        BannerAssigned.Type, BannerCleared.Type, OfferIssued.Type, EmailSent.Type, EmailFailed.Type, WebhookSent.Type,
        RetargetingJoined.Type, RetargetingLeft.Type,
    ];
}
