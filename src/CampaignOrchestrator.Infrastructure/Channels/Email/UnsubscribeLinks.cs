using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>
/// Unsubscribe links (RFC 8058 one-click, and a page for people): <c>{PublicBaseUrl}/unsubscribe?token=…</c>. The token is
/// opaque: profile, the address's hash (never the address), action, the mail's locale and expiry, encrypted and
/// authenticated with AES-GCM under a key derived from this installation's own secret, so a proxy's log shows nothing of
/// the customer, and a token cannot be made up, altered or used after <see cref="EmailOptions.UnsubscribeLinkValidity"/>.
/// Tokens of the first form (signed, readable base64; sent before) are still read until they expire. Using one puts the
/// address on the suppression list and, while the customer exists, an <c>unsubscribed</c> event on the timeline
/// (emailConsent false); a link of an erased customer suppresses the address and creates nobody.
/// </summary>
internal sealed class UnsubscribeLinks(Database database, IOptions<EmailOptions> options, TimeProvider time)
{
    const string SecretName = "unsubscribe-links";
    const int NonceBytes = 12, TagBytes = 16;

    public async Task<string> CreateAsync(string profileId, string address, string actionId, string? locale, CancellationToken ct)
    {
        var expires = (time.GetUtcNow() + options.Value.UnsubscribeLinkValidity).ToUnixTimeSeconds();
        var plain = Encoding.UTF8.GetBytes(string.Join('\n', "v2", profileId, EmailHash.Of(address), actionId, expires, locale ?? ""));
        var key = await KeyAsync(ct);
        var sealedBytes = new byte[NonceBytes + TagBytes + plain.Length];
        RandomNumberGenerator.Fill(sealedBytes.AsSpan(0, NonceBytes));
        using (var aes = new AesGcm(key, TagBytes))
            aes.Encrypt(sealedBytes.AsSpan(0, NonceBytes), plain, sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), Version2);
        return $"{options.Value.PublicBaseUrl.TrimEnd('/')}/unsubscribe?token=2.{Base64Url(sealedBytes)}";
    }

    static readonly byte[] Version2 = "unsubscribe v2"u8.ToArray();

    async Task<byte[]> KeyAsync(CancellationToken ct) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, await WorkerSecrets.GetAsync(database, SecretName, time, ct), 32, info: Version2);

    /// <summary>The request a token stands for, or null with why not (altered, expired, malformed).</summary>
    public async Task<(UnsubscribeRequest? Request, string? Problem)> ReadAsync(string? token, CancellationToken ct)
    {
        if (token is null || token.Length is < 3 or > 2048)
            return (null, "the link is incomplete");
        string[] parts;
        if (token.StartsWith("2.", StringComparison.Ordinal))
        {
            byte[] sealedBytes;
            try
            {
                sealedBytes = Convert.FromBase64String(FromBase64Url(token[2..]));
            }
            catch (FormatException)
            {
                return (null, "the link is incomplete");
            }
            if (sealedBytes.Length <= NonceBytes + TagBytes)
                return (null, "the link is incomplete");
            var plain = new byte[sealedBytes.Length - NonceBytes - TagBytes];
            var key = await KeyAsync(ct);
            try
            {
                using var aes = new AesGcm(key, TagBytes);
                aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), plain, Version2);
            }
            catch (AuthenticationTagMismatchException)
            {
                return (null, "the link is not one we sent");
            }
            parts = Encoding.UTF8.GetString(plain).Split('\n');
            if (parts.Length != 6 || parts[0] != "v2")
                return (null, "the link is incomplete");
        }
        else if (await ReadFirstFormAsync(token, ct) is var (first, problem) && first is null)
            return (null, problem);
        else
            parts = first!;
        if (!long.TryParse(parts[4], out var expires))
            return (null, "the link is incomplete");
        if (time.GetUtcNow().ToUnixTimeSeconds() > expires)
            return (null, "the link has expired");
        return (new UnsubscribeRequest(parts[1], parts[2], parts[3], parts.Length > 5 && parts[5].Length > 0 ? parts[5] : null), null);
    }

    /// <summary>A token of the first form: base64 of "v1, profile, address, action, expiry", signed; the address is hashed at once.</summary>
    async Task<(string[]? Parts, string? Problem)> ReadFirstFormAsync(string token, CancellationToken ct)
    {
        var dot = token.IndexOf('.');
        if (dot <= 0)
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
        return parts.Length != 5 || parts[0] != "v1" ? (null, "the link is incomplete") : ([parts[0], parts[1], EmailHash.Of(parts[2]), parts[3], parts[4]], null);
    }

    /// <summary>Suppresses the address for marketing email and, while the customer exists, records <c>unsubscribed</c> on the
    /// timeline (once, however often the link is used). Returns whether the customer still exists.</summary>
    public async Task<bool> RecordAsync(UnsubscribeRequest request, IJourneyWriter journeys, Func<string, Task<bool>> profileExists, CancellationToken ct)
    {
        await Suppressions.AddHashAsync(database, request.AddressSha256, Suppressions.Unsubscribed, "link in the mail of action " + request.ActionId,
            time.GetUtcNow(), ct);
        // An erased customer's old link: the address is suppressed (it already was, as erased) and no profile is made again.
        if (!await profileExists(request.ProfileId))
            return false;
        var customerId = request.ProfileId.StartsWith("c:", StringComparison.Ordinal) ? request.ProfileId[2..] : null;
        var anonymousId = customerId is null && request.ProfileId.StartsWith("a:", StringComparison.Ordinal) ? request.ProfileId[2..] : null;
        await journeys.WriteAsync(new AcceptedEvent("unsubscribe-" + request.ActionId, JourneyEngine.Unsubscribed, time.GetUtcNow(), customerId, anonymousId,
            null, new JsonObject { ["source"] = "unsubscribe-link", ["actionId"] = request.ActionId }, new JsonObject { ["channel"] = "email" }), ct);
        return true;
    }

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static string FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
    }
}
