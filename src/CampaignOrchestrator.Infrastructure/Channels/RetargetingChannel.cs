using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>The <c>Retargeting</c> section.</summary>
public sealed class RetargetingOptions
{
    public const string SectionName = "Retargeting";

    /// <summary>How long a membership lasts unless an exit ends it first.</summary>
    public TimeSpan Membership { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Customers who ordered this recently are kept out of audiences (no ads for what they just bought).</summary>
    public TimeSpan ExcludeBuyersWithin { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Ad-platform connectors that take audience changes as signed batched webhooks, by name.</summary>
    public Dictionary<string, ConnectorOptions> Connectors { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often waiting changes are posted to each connector.</summary>
    public TimeSpan ConnectorInterval { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed class ConnectorOptions
{
    public string Url { get; set; } = "";

    /// <summary>The signing secret (set it from the environment: <c>Retargeting__Connectors__meta__Secret</c>).</summary>
    public string Secret { get; set; } = "";
}

/// <summary>
/// Retargeting: a delivered retargeting step puts the customer in the step's audience, identified as the ad platforms
/// take it: the normalised email (trimmed, lower case) hashed with SHA-256, never the address; a leave step (written when
/// the campaign's instance exits: a purchase ends the cart recovery) takes them out again. Only with consent to marketing
/// (<c>traits.adConsent</c>, or <c>traits.emailConsent</c> when that is absent), never for a customer who ordered within
/// <see cref="RetargetingOptions.ExcludeBuyersWithin"/>. Memberships end after <see cref="RetargetingOptions.Membership"/>
/// (<see cref="AudienceSweeper"/>). Every join and leave is published (<c>retargeting.joined</c> / <c>retargeting.left</c>)
/// for the ad-platform connectors, which apply them with the hash as the key.
/// </summary>
internal sealed class RetargetingChannel(Database database, IOptions<RetargetingOptions> options, TimeProvider time) : IStoredActionChannel
{
    internal static readonly string[] Columns = ["audience", "profile_id", "email_sha256", "campaign_id", "action_id", "joined_at", "expires_at"];

    public bool Handles(string kind) => kind == "retargeting";

    static bool IsLeave(DueAction action) => (string?)action.Settings["op"] == "leave";

    public async Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken)
    {
        var audience = (string?)action.Settings["audience"];
        if (string.IsNullOrEmpty(audience))
            return ChannelResult.Failed("retargeting without audience");
        if (IsLeave(action))
            return ChannelResult.Ok($"left {audience}");
        await using var connection = await database.OpenAsync(cancellationToken);
        var traits = action.Traits ?? ParseTraits(await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT traits FROM profiles WHERE profile_id = @ProfileId", new { action.ProfileId }, cancellationToken: cancellationToken)));
        var consent = traits.GetValueOrDefault("adConsent") ?? traits.GetValueOrDefault("emailConsent");
        if (consent is not JsonValue v || v.GetValueKind() != JsonValueKind.True)
            return ChannelResult.Suppress("suppressed: no consent to marketing (traits.adConsent / emailConsent)");
        if (HashOf(traits) is null)
            return ChannelResult.Suppress("suppressed: no email address to match the customer by");
        var since = time.GetUtcNow() - options.Value.ExcludeBuyersWithin;
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM events WHERE profile_id = @ProfileId AND type = 'order_placed' AND occurred_at > @since",
                new { action.ProfileId, since }, cancellationToken: cancellationToken)) > 0)
            return ChannelResult.Suppress($"suppressed: ordered within {options.Value.ExcludeBuyersWithin.TotalDays:0} days");
        return ChannelResult.Ok($"joined {audience}");
    }

    public async Task StoreAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, IReadOnlyList<(DueAction Action, DateTimeOffset At)> delivered,
        CancellationToken cancellationToken)
    {
        var events = new List<object?[]>();
        foreach (var (action, at) in delivered)
        {
            var audience = (string)action.Settings["audience"]!;
            if (IsLeave(action))
            {
                var hash = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                    "DELETE FROM audience_members WHERE audience = @audience AND profile_id = @ProfileId RETURNING email_sha256",
                    new { audience, action.ProfileId }, tx, cancellationToken: cancellationToken));
                if (hash is not null)
                    events.Add(Outbox.Row("retargeting.left", action, at, new JsonObject { ["audience"] = audience, ["emailSha256"] = hash, ["reason"] = "exit" }));
                continue;
            }
            var traits = action.Traits ?? ParseTraits(await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT traits FROM profiles WHERE profile_id = @ProfileId", new { action.ProfileId }, tx, cancellationToken: cancellationToken)));
            var emailHash = HashOf(traits)!;
            var expires = at + options.Value.Membership;
            await BulkRows.InsertAsync(connection, tx, dialect, "audience_members", Columns,
                [[audience, action.ProfileId, emailHash, action.CampaignId, action.ActionId, at, expires]], cancellationToken,
                "ON CONFLICT (audience, profile_id) DO UPDATE SET email_sha256 = excluded.email_sha256, campaign_id = excluded.campaign_id, " +
                "action_id = excluded.action_id, joined_at = excluded.joined_at, expires_at = excluded.expires_at");
            events.Add(Outbox.Row("retargeting.joined", action, at, new JsonObject { ["audience"] = audience, ["emailSha256"] = emailHash, ["expiresAt"] = expires }));
        }
        await Outbox.AppendAsync(connection, tx, dialect, events, cancellationToken);
        await ConnectorOutbox.AppendAsync(connection, tx, dialect, options.Value, events, cancellationToken);
    }

    /// <summary>SHA-256 (hex) of the normalised address, as the ad platforms' customer lists take it; null without an address.</summary>
    internal static string? HashOf(IReadOnlyDictionary<string, JsonNode?> traits) =>
        traits.GetValueOrDefault("email") is JsonValue v && v.GetValueKind() == JsonValueKind.String && ((string)v!).Trim() is { Length: > 0 } address
            ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(address.ToLowerInvariant())))
            : null;

    static Dictionary<string, JsonNode?> ParseTraits(string? json) =>
        (json is null ? null : JsonNode.Parse(json) as JsonObject)?.ToDictionary(p => p.Key, p => p.Value?.DeepClone(), StringComparer.Ordinal) ?? [];
}

/// <summary>Ends memberships that ran out: removes them and publishes <c>retargeting.left</c> (reason expired), every minute.</summary>
internal sealed class AudienceSweeper(Database database, TimeProvider time, OutboxSignal signal, IOptions<RetargetingOptions> options, ILogger<AudienceSweeper> logger)
    : ExpirySweeper(time, TimeSpan.FromMinutes(1), logger)
{
    internal override async Task<int> SweepAsync(CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        using var turn = await database.WriteTurnAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var postgres = database.Provider == StorageProvider.Postgres;
        var ended = (await connection.QueryAsync<Member>(new CommandDefinition(
            "DELETE FROM audience_members WHERE (audience, profile_id) IN (SELECT audience, profile_id FROM audience_members WHERE expires_at <= @now " +
            $"ORDER BY expires_at LIMIT {BatchSize}{(postgres ? " FOR UPDATE SKIP LOCKED" : "")}) " +
            "RETURNING audience, profile_id, email_sha256, campaign_id, action_id, expires_at", new { now }, tx, cancellationToken: ct))).ToList();
        if (ended.Count == 0)
            return 0;
        var sql = database.Dialect;
        var customers = await CustomersAsync(connection, tx, sql, ended.Select(e => e.ProfileId), ct);
        var rows = ended.Select(e =>
        {
            var customer = customers.GetValueOrDefault(e.ProfileId);
            var action = new DueAction(e.ActionId, e.CampaignId, 1, e.ProfileId, customer.CustomerId, "retargeting", [], 0, "", null, false, e.ExpiresAt, "", customer.Phase);
            return Outbox.Row("retargeting.left", action, e.ExpiresAt, new JsonObject { ["audience"] = e.Audience, ["emailSha256"] = e.EmailSha256, ["reason"] = "expired" });
        }).ToList();
        await Outbox.AppendAsync(connection, tx, sql, rows, ct);
        await ConnectorOutbox.AppendAsync(connection, tx, sql, options.Value, rows, ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        return ended.Count;
    }

    sealed class Member
    {
        public string Audience { get; set; } = "";
        public string ProfileId { get; set; } = "";
        public string EmailSha256 { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public string ActionId { get; set; } = "";
        public DateTimeOffset ExpiresAt { get; set; }
    }
}
