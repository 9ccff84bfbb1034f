using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Channels.Email;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Privacy;

/// <summary>
/// A customer's GDPR requests: everything held about them as one document (<see cref="ExportAsync"/>, the right of access),
/// and erasure (<see cref="EraseAsync"/>, the right to be forgotten). The tables and how each is treated are listed in
/// <see cref="PersonalData"/>. A customer is named by customerId or by any device's anonymousId; both reach the customer
/// and all their devices.
/// </summary>
internal sealed class CustomerData(Database database, JourneyReader journeys, ActionStore actions, IOptions<RetargetingOptions> retargeting,
    OutboxSignal signal, TimeProvider time, ILogger<CustomerData> logger)
{
    /// <summary>The most timeline events an export holds (newest kept); the document says when there were more.</summary>
    public const int MaxExportedEvents = 100_000;

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };


    /// <summary>How an erased customer is named afterwards (the audit log): the SHA-256 of the id, which someone who knows the id can check.</summary>
    public static string Pseudonym(string id) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)));

    /// <summary>Everything held about the customer, or null if nothing is.</summary>
    public async Task<JsonObject?> ExportAsync(string id, CancellationToken ct)
    {
        var journey = await journeys.GetAsync(id, MaxExportedEvents, ct);
        if (journey is null)
            return null;
        await using var connection = await database.OpenAsync(ct);
        if (await ResolveAsync(connection, null, id, ct) is not { } who)
            return null;
        var profiles = database.Dialect.List(who.ProfileIds);
        var document = new JsonObject
        {
            ["exportedAt"] = time.GetUtcNow(),
            ["customerId"] = journey.CustomerId,
            ["journey"] = JsonSerializer.SerializeToNode(journey, Json),
            ["timelineComplete"] = journey.Timeline.Count < MaxExportedEvents,
            ["actions"] = JsonSerializer.SerializeToNode(await actions.ForProfileAsync(journey.ProfileId, int.MaxValue, ct), Json),
        };
        foreach (var (name, table) in new[] { ("placements", "placements"), ("offers", "offers"), ("audiences", "audience_members") })
            document[name] = Rows(await connection.QueryAsync(new CommandDefinition(
                $"SELECT * FROM {table} WHERE {database.Dialect.In("profile_id", "@profiles")}", new { profiles }, cancellationToken: ct)));
        document["devices"] = Rows(await connection.QueryAsync(new CommandDefinition(
            $"SELECT anonymous_id, linked_at, event_id FROM anonymous_links WHERE customer_id = @customer ORDER BY linked_at",
            new { customer = who.CustomerId ?? "" }, cancellationToken: ct)));
        var addresses = await AddressesAsync(connection, null, who.ProfileIds, ct);
        var suppressions = (await connection.QueryAsync<(string Hash, string Reason, DateTimeOffset At)>(new CommandDefinition(
            $"SELECT address_sha256, reason, at FROM email_suppressions WHERE {database.Dialect.In("address_sha256", "@hashes")}",
            new { hashes = database.Dialect.List(addresses.Keys.ToArray()) }, cancellationToken: ct))).ToDictionary(s => s.Hash);
        document["emailAddresses"] = new JsonArray(addresses.Select(a => (JsonNode)new JsonObject
        {
            ["address"] = a.Value,
            ["sha256"] = a.Key,
            ["suppressed"] = suppressions.TryGetValue(a.Key, out var s) ? new JsonObject { ["reason"] = s.Reason, ["at"] = s.At } : null,
        }).ToArray());
        document["operatorActions"] = Rows(await connection.QueryAsync(new CommandDefinition(
            $"SELECT at, key_name, action, target, detail FROM audit_log WHERE {database.Dialect.In("target", "@targets")} ORDER BY seq",
            new { targets = database.Dialect.List([.. who.Names(id), .. who.ProfileIds]) }, cancellationToken: ct)));
        return document;
    }

    /// <summary>
    /// Erases the customer: the pending actions are cancelled (their rows go with the rest), the audience memberships end
    /// with <c>retargeting.left</c> (reason <c>erased</c>, carrying only the address hash the platforms remove by), and every
    /// row of <see cref="PersonalData"/> goes; each address the customer used stays only as a hash on the suppression list.
    /// One transaction; null if nothing is held about <paramref name="id"/>.
    /// </summary>
    /// <param name="operatorName">Who asked (the API key's name): the audit entry is written in the same transaction.</param>
    public async Task<ErasureReport?> EraseAsync(string id, string operatorName, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var sql = database.Dialect;
        using var turn = await database.WriteTurnAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var who = await ResolveAsync(connection, tx, id, ct);
        if (who is null)
            return null;
        // Hold the profiles as the journey writer does (PostgreSQL), so no batch of another worker interleaves.
        if (sql.LockProfilesSql("@ids") is { } lockSql)
        {
            var ids = who.ProfileIds.Order(StringComparer.Ordinal).ToArray();
            await connection.ExecuteScalarAsync<long>(new CommandDefinition(lockSql, new { ids }, tx, cancellationToken: ct));
            who = await ResolveAsync(connection, tx, id, ct) ?? who;
        }
        var profiles = sql.List(who.ProfileIds);
        var addresses = await AddressesAsync(connection, tx, who.ProfileIds, ct);
        var pending = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT count(*) FROM scheduled_actions WHERE {sql.In("profile_id", "@profiles")} AND status IN ('{ActionStatus.Pending}', '{ActionStatus.Claimed}')",
            new { profiles }, tx, cancellationToken: ct));
        var members = (await connection.QueryAsync<(string Audience, string EmailSha256, string CampaignId, string ActionId)>(new CommandDefinition(
            $"SELECT audience, email_sha256, campaign_id, action_id FROM audience_members WHERE {sql.In("profile_id", "@profiles")}",
            new { profiles }, tx, cancellationToken: ct))).ToList();

        var deleted = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var subject = Pseudonym(who.CustomerId ?? id);
        // What waits to be published about the customer names them: every event carries customerId or anonymousId.
        var needles = who.Names(id).SelectMany(n => new[] { "\"customerId\":" + JsonSerializer.Serialize(n, OutboundJson.Options),
            "\"anonymousId\":" + JsonSerializer.Serialize(n, OutboundJson.Options) }).Distinct(StringComparer.Ordinal).ToList();
        foreach (var table in new[] { "outbox", "connector_outbox" })
            foreach (var needle in needles)
                Add(deleted, table, await connection.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM {table} WHERE {sql.Contains("body", "@needle")}", new { needle }, tx, cancellationToken: ct)));
        // The funnel's counts are aggregates: what the customer added is taken out, and their contribution list deleted.
        await Journeys.FunnelCounters.ForgetAsync(database, connection, tx, who.ProfileIds, ct);
        foreach (var table in PersonalData.ByProfile)
            Add(deleted, table, await connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM {table} WHERE {sql.In("profile_id", "@profiles")}", new { profiles }, tx, cancellationToken: ct)));
        Add(deleted, "anonymous_links", await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM anonymous_links WHERE customer_id = @customer OR {sql.In("anonymous_id", "@devices")}",
            new { customer = who.CustomerId ?? "", devices = sql.List(who.AnonymousIds) }, tx, cancellationToken: ct)));
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE campaign_scans SET after_profile = '' WHERE {sql.In("after_profile", "@profiles")}", new { profiles }, tx, cancellationToken: ct));
        // Entries name a customer by profile id (c:…, a:…); older ones by the bare id asked for, which is rewritten only when
        // no other customer or device still answers to it (a device id may be another customer's id).
        var others = (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT profile_id FROM profiles WHERE {sql.In("profile_id", "@candidates")}",
            new { candidates = sql.List(who.Names(id).SelectMany(n => new[] { ProfileIds.ForCustomer(n), ProfileIds.ForAnonymous(n) }).ToArray()) }, tx,
            cancellationToken: ct))).Select(p => p[2..]).ToHashSet(StringComparer.Ordinal);
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE audit_log SET target = @pseudonym WHERE {sql.In("target", "@targets")}",
            new { pseudonym = subject, targets = sql.List([.. who.ProfileIds, .. who.Names(id).Where(n => !others.Contains(n))]) }, tx, cancellationToken: ct));
        foreach (var hash in addresses.Keys)
            await connection.ExecuteAsync(new CommandDefinition(Suppressions.Upsert,
                new { hash, reason = Suppressions.Erased, at = now, detail = (string?)null }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE email_suppressions SET detail = NULL WHERE {sql.In("address_sha256", "@hashes")}",
            new { hashes = sql.List(addresses.Keys.ToArray()) }, tx, cancellationToken: ct));

        var left = members.Select(m => (ICampaignActionEvent)new RetargetingLeft(m.ActionId, m.CampaignId, 1, null, null, null, now, "", 0,
            m.Audience, m.EmailSha256, "erased")).ToList();
        await Outbox.AppendAsync(connection, tx, sql, left, ct);
        await StoredRows.WriteAsync(connection, tx, sql, ConnectorOutbox.Rows(retargeting.Value, left).ToList(), ct);
        var report = new ErasureReport(subject, who.ProfileIds.Count, (int)pending, members.Count, addresses.Count, deleted);
        await AuditLog.AppendAsync(connection, tx, now, operatorName, "customers.erase", subject,
            $"{report.Profiles} profile(s), {report.PendingCancelled} pending action(s) cancelled, {report.AudiencesLeft} audience membership(s) ended", ct);
        await tx.CommitAsync(ct);
        report = report with { Files = await sql.ClearDeletedAsync(connection, ct) };
        foreach (var profile in who.ProfileIds)
            database.Cache?.Remove(profile);
        if (left.Count > 0)
            signal.Notify();
        Log.CustomerErased(logger, report.Profiles, report.PendingCancelled, report.AudiencesLeft, report.AddressesSuppressed);
        return report;
    }

    static void Add(IDictionary<string, int> counts, string table, int rows)
    {
        if (rows > 0)
            counts[table] = counts.TryGetValue(table, out var n) ? n + rows : rows;
    }

    /// <summary>The customer <paramref name="id"/> leads to, as <c>GET /api/customers/{id}</c> finds them, with all their devices.</summary>
    async Task<Customer?> ResolveAsync(DbConnection connection, DbTransaction? tx, string id, CancellationToken ct)
    {
        var linked = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT customer_id FROM anonymous_links WHERE anonymous_id = @id", new { id }, tx, cancellationToken: ct));
        foreach (var customer in new[] { id, linked })
        {
            if (customer is null)
                continue;
            var devices = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT anonymous_id FROM anonymous_links WHERE customer_id = @customer", new { customer }, tx, cancellationToken: ct))).ToList();
            if (devices.Count > 0 || await ExistsAsync(ProfileIds.ForCustomer(customer)))
                return new Customer(customer, devices, [ProfileIds.ForCustomer(customer), .. devices.Select(ProfileIds.ForAnonymous)]);
        }
        return await ExistsAsync(ProfileIds.ForAnonymous(id)) ? new Customer(null, [id], [ProfileIds.ForAnonymous(id)]) : null;

        async Task<bool> ExistsAsync(string profileId) => await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM profiles WHERE profile_id = @profileId", new { profileId }, tx, cancellationToken: ct)) > 0;
    }

    /// <summary>Every email address the customer's profile and timeline hold (the trait <c>email</c>), by hash.</summary>
    async Task<Dictionary<string, string>> AddressesAsync(DbConnection connection, DbTransaction? tx, IReadOnlyCollection<string> profileIds, CancellationToken ct)
    {
        var profiles = database.Dialect.List(profileIds);
        var traits = (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT CAST(traits AS TEXT) FROM profiles WHERE {database.Dialect.In("profile_id", "@profiles")} UNION ALL " +
            $"SELECT CAST(traits AS TEXT) FROM events WHERE {database.Dialect.In("profile_id", "@profiles")} AND traits IS NOT NULL",
            new { profiles }, tx, cancellationToken: ct))).ToList();
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var json in traits)
        {
            JsonNode? email;
            try
            {
                email = (JsonNode.Parse(json) as JsonObject)?["email"];
            }
            catch (JsonException)
            {
                continue;
            }
            if (email is JsonValue v && v.GetValueKind() == JsonValueKind.String && ((string)v!).Trim() is { Length: > 0 } address)
                found.TryAdd(EmailHash.Of(address), address.Trim().ToLowerInvariant());
        }
        return found;
    }

    static JsonArray Rows(IEnumerable<dynamic> rows) =>
        new(rows.Select(r => (JsonNode)new JsonObject(((IDictionary<string, object?>)r).Select(c =>
            KeyValuePair.Create(Camel(c.Key), c.Value is null or DBNull ? null : JsonSerializer.SerializeToNode(c.Value, Json))))).ToArray());

    static string Camel(string column)
    {
        var parts = column.Split('_');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]));
    }

    sealed record Customer(string? CustomerId, IReadOnlyList<string> AnonymousIds, IReadOnlyList<string> ProfileIds)
    {
        /// <summary>Every id that names the customer: the one asked for, the customerId, the devices.</summary>
        public string[] Names(string asked) => new[] { asked, CustomerId }.Concat(AnonymousIds).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
    }
}
