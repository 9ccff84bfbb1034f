using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>
/// Unsubscribe links (RFC 8058 one-click, and a page for people): <c>{PublicBaseUrl}/unsubscribe?token=…</c>, the token
/// carrying profile, address, action and expiry, signed with HMAC-SHA256 under this installation's own secret, so it
/// cannot be made up or altered and stops working after <see cref="EmailOptions.UnsubscribeLinkValidity"/>. Using it puts
/// the address on the suppression list and an <c>unsubscribed</c> event on the customer's timeline (emailConsent false).
/// </summary>
internal sealed class UnsubscribeLinks(Database database, IOptions<EmailOptions> options, TimeProvider time)
{
    const string SecretName = "unsubscribe-links";

    public async Task<string> CreateAsync(string profileId, string address, string actionId, CancellationToken ct)
    {
        var expires = (time.GetUtcNow() + options.Value.UnsubscribeLinkValidity).ToUnixTimeSeconds();
        var payload = Base64Url(Encoding.UTF8.GetBytes(string.Join('\n', "v1", profileId, address.ToLowerInvariant(), actionId, expires)));
        var signature = Base64Url(HMACSHA256.HashData(await WorkerSecrets.GetAsync(database, SecretName, time, ct), Encoding.ASCII.GetBytes(payload)));
        return $"{options.Value.PublicBaseUrl.TrimEnd('/')}/unsubscribe?token={payload}.{signature}";
    }

    /// <summary>The request a token stands for, or null with why not (altered, expired, malformed).</summary>
    public async Task<(UnsubscribeRequest? Request, string? Problem)> ReadAsync(string? token, CancellationToken ct)
    {
        var dot = token?.IndexOf('.') ?? -1;
        if (token is null || dot <= 0)
            return (null, "the link is incomplete");
        var (payload, signature) = (token[..dot], token[(dot + 1)..]);
        var expected = Base64Url(HMACSHA256.HashData(await WorkerSecrets.GetAsync(database, SecretName, time, ct), Encoding.ASCII.GetBytes(payload)));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
            return (null, "the link is not one we sent");
        string[] parts;
        try
        {
            parts = Encoding.UTF8.GetString(Convert.FromBase64String(FromBase64Url(payload))).Split('\n');
        }
        catch (FormatException)
        {
            return (null, "the link is incomplete");
        }
        if (parts.Length != 5 || parts[0] != "v1" || !long.TryParse(parts[4], out var expires))
            return (null, "the link is incomplete");
        if (time.GetUtcNow().ToUnixTimeSeconds() > expires)
            return (null, "the link has expired");
        return (new UnsubscribeRequest(parts[1], parts[2], parts[3]), null);
    }

    /// <summary>Suppresses the address for marketing email and records <c>unsubscribed</c> on the timeline (once, however
    /// often the link is used).</summary>
    public async Task RecordAsync(UnsubscribeRequest request, IJourneyWriter journeys, CancellationToken ct)
    {
        await Suppressions.AddAsync(database, request.Address, Suppressions.Unsubscribed, "link in the mail of action " + request.ActionId, time.GetUtcNow(), ct);
        var customerId = request.ProfileId.StartsWith("c:", StringComparison.Ordinal) ? request.ProfileId[2..] : null;
        var anonymousId = customerId is null && request.ProfileId.StartsWith("a:", StringComparison.Ordinal) ? request.ProfileId[2..] : null;
        await journeys.WriteAsync(new AcceptedEvent("unsubscribe-" + request.ActionId, JourneyEngine.Unsubscribed, time.GetUtcNow(), customerId, anonymousId,
            null, new JsonObject { ["source"] = "unsubscribe-link", ["actionId"] = request.ActionId }, new JsonObject { ["channel"] = "email" }), ct);
    }

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static string FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
    }
}
