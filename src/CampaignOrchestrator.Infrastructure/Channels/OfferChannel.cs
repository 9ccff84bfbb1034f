using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Offers: a delivered offer step issues a coupon code, stored with its discount and expiry (the step's
/// <c>validFor</c>) and published as <c>offer.issued</c>; an <c>offer_redeemed</c> event with the code marks it used
/// (<see cref="RedeemAsync"/>, in the journey's transaction).
/// The code is readable (no 0/O, 1/I/L) and neither guessable nor repeated: eight characters of an HMAC-SHA256 of the
/// actionId under this installation's own secret (made at first use, kept in the database), then the action's row
/// number. The same action always gets the same code, so an email that carries it and is sent twice carries the same one.
/// An offer with a template is also an email, sent through the email channel with the code (<c>{{ offer.code }}</c>).
/// </summary>
internal sealed class OfferChannel(Database database, TimeProvider time, Email.EmailChannel? email = null) : IStoredActionChannel
{
    internal const string Alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    internal static readonly string[] Columns = ["code", "profile_id", "campaign_id", "action_id", "discount_percent", "amount", "issued_at", "expires_at"];
    byte[]? _secret;

    public bool Handles(string kind) => kind == "offer";

    public async Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken)
    {
        var terms = Terms(action);
        if (terms.Error is { } error)
            return ChannelResult.Failed(error);
        var code = Code(await SecretAsync(cancellationToken), action);
        if (action.Settings["template"] is null)
            return ChannelResult.Ok("code " + code);
        // An offer with a template is an email carrying the code (the same code if it is sent again).
        if (email is null)
            return ChannelResult.Failed("offer with a template, and no email channel to send it");
        var offer = new Dictionary<string, object?>
        {
            ["code"] = code, ["discountPercent"] = terms.Percent, ["amount"] = terms.Amount,
            ["expiresAt"] = terms.ValidFor is { } v ? time.GetUtcNow() + v : null,
        };
        var sent = await email.SendAsync(action, new Dictionary<string, object?> { ["offer"] = offer }, cancellationToken);
        return sent.Delivered ? ChannelResult.Ok($"code {code}; {sent.Detail}") : sent;
    }

    public async Task StoreAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, IReadOnlyList<(DueAction Action, DateTimeOffset At)> delivered,
        CancellationToken cancellationToken)
    {
        // Loaded by DeliverAsync, which came first (here the write turn is held: SecretAsync would wait for it).
        var secret = _secret ?? throw new InvalidOperationException("offer codes: the secret is read by DeliverAsync first");
        var offers = delivered.Select(d =>
        {
            var terms = Terms(d.Action);
            return (d.Action, d.At, Code: Code(secret, d.Action), terms.Percent, terms.Amount, Expires: terms.ValidFor is { } v ? d.At + v : (DateTimeOffset?)null);
        }).ToList();
        await BulkRows.InsertAsync(connection, tx, dialect, "offers", Columns,
            offers.Select(o => new object?[] { o.Code, o.Action.ProfileId, o.Action.CampaignId, o.Action.ActionId, o.Percent, o.Amount, o.At, o.Expires }).ToList(),
            cancellationToken, "ON CONFLICT (action_id) DO NOTHING");
        await Outbox.AppendAsync(connection, tx, dialect, offers.Select(o => Outbox.Row("offer.issued", o.Action, o.At, new JsonObject
        {
            ["code"] = o.Code, ["discountPercent"] = o.Percent, ["amount"] = o.Amount, ["expiresAt"] = o.Expires,
        })).ToList(), cancellationToken);
        // An offer with a template was also an email.
        if (email is not null)
            await Outbox.AppendAsync(connection, tx, dialect, offers.Where(o => o.Action.Settings["template"] is not null).Select(o => Outbox.Row("email.sent", o.Action, o.At,
                new JsonObject { ["template"] = (string?)o.Action.Settings["template"], ["messageId"] = email.MessageId(o.Action) })).ToList(), cancellationToken);
    }

    public Task StoreFailedAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, IReadOnlyList<(DueAction Action, DateTimeOffset At, string? Reason)> failed,
        CancellationToken cancellationToken) =>
        email is null ? Task.CompletedTask : email.StoreFailedAsync(connection, tx, dialect, failed.Where(f => f.Action.Settings["template"] is not null).ToList(), cancellationToken);

    /// <summary>Marks the codes of <c>offer_redeemed</c> events used (the first redemption counts); returns how many it marked.</summary>
    public static async Task<int> RedeemAsync(DbConnection connection, DbTransaction tx, IEnumerable<Core.Events.AcceptedEvent> events, CancellationToken ct)
    {
        var marked = 0;
        foreach (var e in events)
        {
            if (e.Type != "offer_redeemed" || e.Properties?["code"] is not JsonValue value || value.GetValueKind() != System.Text.Json.JsonValueKind.String)
                continue;
            marked += await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE offers SET redeemed_at = @at, redeemed_event_id = @id WHERE code = @code AND redeemed_at IS NULL",
                new { at = e.OccurredAt, id = e.EventId, code = ((string)value!).Trim().ToUpperInvariant() }, tx, cancellationToken: ct));
        }
        return marked;
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
            validFor = v;
        }
        return (percent, amount, validFor, null);
    }

    async Task<byte[]> SecretAsync(CancellationToken ct) => _secret ??= await WorkerSecrets.GetAsync(database, "offer-codes", ct);
}
