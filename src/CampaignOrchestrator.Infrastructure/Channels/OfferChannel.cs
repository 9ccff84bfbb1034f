using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Core.Channels;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Offers: a delivered offer step issues a coupon code, kept with its discount and expiry (the step's
/// <c>validFor</c>) and published as <c>offer.issued</c>; an <c>offer_redeemed</c> event with the code marks it used
/// (<see cref="WriteRedemptionsAsync"/>, in the journey's transaction).
/// The code is readable (no 0/O, 1/I/L) and neither guessable nor repeated: eight characters of an HMAC-SHA256 of the
/// actionId under this installation's own secret (made at first use, kept in the database), then the action's row
/// number. The same action always gets the same code, so an email that carries it and is sent twice carries the same one.
/// An offer with a template is also an email, sent through the email channel with the code (<c>{{ offer.code }}</c>).
/// </summary>
internal sealed class OfferChannel(Database database, TimeProvider time, Email.EmailChannel? email = null) : IActionChannel
{
    internal const string Alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    internal static readonly string[] Columns = ["code", "profile_id", "campaign_id", "action_id", "discount_percent", "amount", "issued_at", "expires_at"];
    byte[]? _secret;

    public bool Handles(string kind) => kind == ChannelKinds.Offer.Name;

    public async Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken)
    {
        var terms = Terms(action);
        if (terms.Error is { } error)
            return ChannelResult.Failed(error);
        var code = Code(await SecretAsync(cancellationToken), action);
        var at = time.GetUtcNow();
        var expires = at + terms.ValidFor;
        var issued = new OfferIssued(action.ActionId, action.CampaignId, action.Step, action.CustomerId, action.AnonymousId, action.Phase, at,
            action.TriggerId, action.Variant, code, terms.Percent, terms.Amount, expires);
        var row = new StoredRow("offers", Columns, [code, action.ProfileId, action.CampaignId, action.ActionId, terms.Percent, terms.Amount, at, expires],
            "ON CONFLICT (action_id) DO NOTHING");
        if (action.Settings["template"] is null)
            return ChannelResult.Ok("code " + code).Keeping(row).Announcing(issued);
        // An offer with a template is an email carrying the code (the same code if it is sent again).
        if (email is null)
            return ChannelResult.Failed("offer with a template, and no email channel to send it");
        var offer = new Dictionary<string, object?> { ["code"] = code, ["discountPercent"] = terms.Percent, ["amount"] = terms.Amount, ["expiresAt"] = expires };
        var sent = await email.SendAsync(action, new Dictionary<string, object?> { ["offer"] = offer }, cancellationToken);
        return sent.Delivered ? (sent with { Detail = $"code {code}; {sent.Detail}", Events = [issued, .. sent.Events] }).Keeping(row) : sent;
    }

    public ChannelResult Failure(DueAction action, string reason) =>
        email is not null && action.Settings["template"] is not null ? email.Failure(action, reason) : ChannelResult.Failed(reason);

    /// <summary>
    /// Marks the codes of the batch's <c>offer_redeemed</c> events used (the first redemption before the offer's expiry counts): PostgreSQL as
    /// statements of the journey's final command, SQLite at once.
    /// </summary>
    public static async Task WriteRedemptionsAsync(SqlBatch batch, DbConnection connection, DbTransaction tx, SqlDialect sql,
        IEnumerable<Core.Events.AcceptedEvent> events, CancellationToken ct)
    {
        // An offer redeemed after its expiresAt is refused: it stays unused (the timeline says why, JourneyReader.OfferNotes).
        const string update = "UPDATE offers SET redeemed_at = {0}, redeemed_event_id = {1} WHERE code = {2} AND redeemed_at IS NULL AND (expires_at IS NULL OR expires_at >= {0});";
        var n = 0;
        foreach (var e in events)
        {
            if (e.Type != "offer_redeemed" || e.Properties?["code"] is not JsonValue value || value.GetValueKind() != System.Text.Json.JsonValueKind.String)
                continue;
            var code = ((string)value!).Trim().ToUpperInvariant();
            if (sql.Provider == StorageProvider.Postgres)
            {
                batch.Append(string.Format(CultureInfo.InvariantCulture, update, $"@ora{n}", $"@ori{n}", $"@orc{n}"))
                    .Add($"ora{n}", e.OccurredAt).Add($"ori{n}", e.EventId).Add($"orc{n}", code);
                n++;
            }
            else
                await connection.ExecuteAsync(new CommandDefinition(string.Format(CultureInfo.InvariantCulture, update, "@at", "@id", "@code"),
                    new { at = e.OccurredAt, id = e.EventId, code }, tx, cancellationToken: ct));
        }
    }

    internal static string Code(byte[] secret, DueAction action)
    {
        var mac = HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(action.ActionId));
        var code = new StringBuilder(16);
        for (var i = 0; i < 8; i++)
        {
            if (i == 4) code.Append('-');
            code.Append(Alphabet[mac[i] % Alphabet.Length]); // 256 = 8 * 31 + 8: the first eight letters a little likelier, ~39.6 bits in all
        }
        code.Append('-');
        var n = action.Seq;
        var tail = new StringBuilder();
        do { tail.Insert(0, Alphabet[(int)(n % Alphabet.Length)]); n /= Alphabet.Length; } while (n > 0);
        return code.Append(tail.ToString().PadLeft(2, Alphabet[0])).ToString();
    }

    /// <summary>The step's discount and validity, as the rules wrote them (strings).</summary>
    static (decimal? Percent, decimal? Amount, TimeSpan? ValidFor, string? Error) Terms(DueAction action)
    {
        decimal? Number(string key) => action.Settings[key] is { } v && decimal.TryParse(v.ToString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var n) ? n : null;
        var percent = Number("discountPercent");
        var amount = Number("amount");
        if (percent is null && amount is null)
            return (null, null, null, "offer without discountPercent or amount");
        if (percent is <= 0 or > 100)
            return (null, null, null, $"offer discountPercent {percent} is not between 0 and 100");
        if (amount is <= 0)
            return (null, null, null, $"offer amount {amount} is not positive");
        TimeSpan? validFor = null;
        if (action.Settings["validFor"] is { } text)
        {
            if (!RulesParser.TryParseDuration(text.ToString(), out var v))
                return (null, null, null, $"offer validFor '{text}' is not a duration");
            if (v > RuleLimits.MaxValidity)   // a step an older release planned: the rules bound it now
                return (null, null, null, $"offer validFor '{text}' is longer than {RuleLimits.Describe(RuleLimits.MaxValidity)}");
            validFor = v;
        }
        return (percent, amount, validFor, null);
    }

    async Task<byte[]> SecretAsync(CancellationToken ct) => _secret ??= await WorkerSecrets.GetAsync(database, "offer-codes", time, ct);
}
