using System.Data.Common;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Results;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Journeys;

/// <summary>
/// The connected funnel's kept counters (migration 0018): <see cref="RefreshAsync"/> is the incremental job. It reads the
/// events stored since its last run (by <c>events.seq</c>), recounts the customers they landed on (their phase history,
/// their devices, the first time they did each micro-conversion step: <see cref="FunnelContributions"/>), and applies the
/// difference to <c>funnel_counts</c>, so late events and merged devices correct the counts they changed. <see cref="ReadAsync"/>
/// answers <c>GET /api/funnel</c> from the counters (a few hundred rows, whatever the shop's size); a segment is judged per
/// customer over their stored contributions, up to a bound it reports. The same job keeps the campaign results
/// (<see cref="CampaignResults.ComputeAsync"/>, <see cref="CampaignResults.ApplyAsync"/>): the customers of the events and of the action log since its last run.
/// </summary>
internal sealed class FunnelCounters(Database database, ActiveRules rules, TimeProvider time, ILogger<FunnelCounters> logger)
{
    /// <summary>Events read per step of the job; their customers are recounted together.</summary>
    public int PageSize { get; init; } = 5000;

    /// <summary>
    /// PostgreSQL: sequence numbers are taken before commit, so a transaction can commit below the watermark; each run reads
    /// this many before it again (recounting is idempotent).
    /// </summary>
    const long PostgresOverlap = 20_000;

    /// <summary>A customer used more than one device: more than one anonymousId (device or cookie) is linked to them.</summary>
    public const int CrossDeviceLinks = 2;

    const long AdvisoryLock = 0x46554E4E454C; // "FUNNEL": one worker counts at a time.

    static readonly string[] CountColumns = ["day", "counter", "cross_device", "phase_rank", "other_rank", "bucket", "n"];

    /// <summary>Counts the events stored since the last run; returns the customers recounted (0: nothing new, or another worker counts).</summary>
    public async Task<int> RefreshAsync(CancellationToken ct)
    {
        var recounted = 0;
        var first = true;
        while (!ct.IsCancellationRequested)
        {
            var (profiles, read) = await StepAsync(first, ct);
            first = false;
            recounted += profiles;
            if (read < PageSize)
                break;
        }
        return recounted;
    }

    /// <summary>
    /// One step: the customers of the next page of events and of the action log, recounted. The reads run first, without
    /// the SQLite write turn (the journey writer goes on meanwhile; a customer it changes has a newer event, recounted by the
    /// next step); then, in the write turn, the stored lists are read again and the difference from them applied, so the
    /// counters always equal the sum of the stored lists, and a customer erased or merged away meanwhile counts nothing.
    /// PostgreSQL: all of it in one transaction under an advisory lock (one worker counts at a time).
    /// </summary>
    async Task<(int Profiles, int Read)> StepAsync(bool first, CancellationToken ct)
    {
        var sql = database.Dialect;
        var postgres = sql.Provider == StorageProvider.Postgres;
        await using var connection = await database.OpenAsync(ct);
        await using var readTx = postgres ? await connection.BeginTransactionAsync(ct) : null;
        if (postgres && !await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_xact_lock(@key)", new { key = AdvisoryLock }, readTx, cancellationToken: ct)))
            return (0, 0);
        var (watermark, resultsWatermark) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            "SELECT watermark, results_watermark FROM funnel_state WHERE id = 1", transaction: readTx, cancellationToken: ct));
        var overlap = postgres && first ? PostgresOverlap : 0;
        var events = (await connection.QueryAsync<(long Seq, string ProfileId)>(new CommandDefinition(
            "SELECT seq, profile_id FROM events WHERE seq > @from ORDER BY seq LIMIT @limit",
            new { from = Math.Max(0, watermark - overlap), limit = PageSize }, readTx, cancellationToken: ct))).ToList();
        var logged = (await connection.QueryAsync<(long Seq, string ProfileId)>(new CommandDefinition(
            "SELECT seq, profile_id FROM action_log WHERE seq > @from ORDER BY seq LIMIT @limit",
            new { from = Math.Max(0, resultsWatermark - overlap), limit = PageSize }, readTx, cancellationToken: ct))).ToList();
        var (regoaled, goals) = first ? await GoalChangesAsync(connection, readTx, ct) : ([], []);
        if (events.Count == 0 && logged.Count == 0 && regoaled.Count == 0 && goals.Count == 0)
            return (0, 0);

        var funnel = await ComputeAsync(connection, readTx, events.Select(e => e.ProfileId).Distinct(StringComparer.Ordinal).ToList(), ct);
        var forResults = funnel.Keys.Concat(logged.Select(l => l.ProfileId)).Concat(regoaled).Distinct(StringComparer.Ordinal).ToList();
        var results = await _results.ComputeAsync(connection, readTx, forResults, GoalOf, ct);

        using var turn = postgres ? default : await database.WriteTurnAsync(ct);
        await using var writeConnection = postgres ? null : await database.OpenAsync(ct);
        var (db, tx) = postgres ? (connection, readTx!) : (writeConnection!, await writeConnection!.BeginTransactionAsync(ct));
        await using (postgres ? null : tx)
        {
            await ApplyAsync(db, tx, funnel, ct);
            await _results.ApplyAsync(db, tx, forResults, results, ct);
            await BulkRows.InsertAsync(db, tx, sql, "results_goals", ["campaign_id", "goal"], goals, ct, "ON CONFLICT (campaign_id) DO UPDATE SET goal = excluded.goal");
            await db.ExecuteAsync(new CommandDefinition(
                "UPDATE funnel_state SET watermark = @watermark, results_watermark = @resultsWatermark, counted_at = @now WHERE id = 1",
                new
                {
                    watermark = Math.Max(watermark, events.Count == 0 ? 0 : events[^1].Seq),
                    resultsWatermark = Math.Max(resultsWatermark, logged.Count == 0 ? 0 : logged[^1].Seq),
                    now = time.GetUtcNow(),
                }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
        Log.FunnelCounted(logger, events.Count + logged.Count, funnel.Count + forResults.Count, events.Count == 0 ? watermark : events[^1].Seq);
        return (forResults.Count, Math.Max(events.Count, logged.Count));
    }

    readonly CampaignResults _results = new(database);

    /// <summary>The goal a campaign is measured by: the rules' in force, the default for a campaign no longer in them.</summary>
    Goal GoalOf(string campaignId) => rules.Current.Rules.Campaigns.FirstOrDefault(c => c.Id == campaignId)?.Goal ?? Goal.Default;

    /// <summary>Campaigns whose goal changed since they were counted: their counted customers (to recount) and the goals to record.</summary>
    async Task<(IReadOnlyList<string> Profiles, List<object?[]> Goals)> GoalChangesAsync(DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        var stored = (await connection.QueryAsync<(string CampaignId, string Goal)>(new CommandDefinition("SELECT campaign_id, goal FROM results_goals",
            transaction: tx, cancellationToken: ct))).ToDictionary(g => g.CampaignId, g => g.Goal, StringComparer.Ordinal);
        var profiles = new List<string>();
        var changed = new List<object?[]>();
        foreach (var campaign in rules.Current.Rules.Campaigns)
        {
            var goal = $"{campaign.Goal.Event} {campaign.Goal.Within.Ticks}";
            if (stored.GetValueOrDefault(campaign.Id) == goal)
                continue;
            if (stored.ContainsKey(campaign.Id))
                profiles.AddRange(await _results.CountedProfilesAsync(connection, tx, campaign.Id, ct));
            changed.Add([campaign.Id, goal]);
        }
        return (profiles, changed);
    }

    /// <summary>
    /// What <paramref name="profileIds"/> (and the devices merged into them that still hold counts of their own) add to the
    /// funnel now: their contribution lists, "" for none. Reads only.
    /// </summary>
    public async Task<Dictionary<string, string>> ComputeAsync(DbConnection connection, DbTransaction? tx, IReadOnlyCollection<string> profileIds, CancellationToken ct)
    {
        if (profileIds.Count == 0)
            return [];
        var sql = database.Dialect;
        var customers = profileIds.Where(id => id.StartsWith("c:", StringComparison.Ordinal)).Select(id => id[2..]).ToArray();
        var links = customers.Length == 0 ? [] : (await connection.QueryAsync<(string CustomerId, string AnonymousId)>(new CommandDefinition(
            $"SELECT customer_id, anonymous_id FROM anonymous_links WHERE {sql.In("customer_id", "@customers")}",
            new { customers = sql.List(customers) }, tx, cancellationToken: ct))).ToList();
        // A device merged into a customer keeps its own counts until they end here; a device never counted has none to end.
        var devices = links.Select(l => ProfileIds.ForAnonymous(l.AnonymousId)).Except(profileIds, StringComparer.Ordinal).ToArray();
        var counted = devices.Length == 0 ? [] : (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT profile_id FROM funnel_profiles WHERE {sql.In("profile_id", "@devices")}", new { devices = sql.List(devices) }, tx, cancellationToken: ct))).ToList();
        var ids = profileIds.Concat(counted).Distinct(StringComparer.Ordinal).ToArray();
        var list = sql.List(ids);

        var history = (await connection.QueryAsync<(string ProfileId, string Phase, DateTimeOffset At)>(new CommandDefinition(
            $"SELECT profile_id, phase, occurred_at FROM phase_history WHERE {sql.In("profile_id", "@ids")} ORDER BY profile_id, occurred_at",
            new { ids = list }, tx, cancellationToken: ct))).ToLookup(h => h.ProfileId, StringComparer.Ordinal);
        var firsts = (await connection.QueryAsync<(string ProfileId, string Type, DateTimeOffset At)>(new CommandDefinition(
            $"SELECT profile_id, type, MIN(occurred_at) AS at FROM events WHERE {sql.In("profile_id", "@ids")} AND {sql.In("type", "@steps")} GROUP BY profile_id, type",
            new { ids = list, steps = sql.List(FunnelContributions.MicroSteps) }, tx, cancellationToken: ct))).ToLookup(f => f.ProfileId, StringComparer.Ordinal);
        var linkCounts = links.GroupBy(l => l.CustomerId, StringComparer.Ordinal).ToDictionary(g => ProfileIds.ForCustomer(g.Key), g => g.Count(), StringComparer.Ordinal);
        return ids.ToDictionary(id => id, id =>
        {
            var phases = history[id].Select(h => (Phase: PhaseNames.TryParse(h.Phase, out var p) ? p : (Phase)0, h.At)).Where(h => h.Phase != 0).ToList();
            var times = FunnelContributions.MicroSteps.Select(step => firsts[id].Where(f => f.Type == step).Select(f => (DateTimeOffset?)f.At).FirstOrDefault()).ToArray();
            return string.Join(';', FunnelContributions.Of(phases, linkCounts.GetValueOrDefault(id) >= CrossDeviceLinks, times).Select(c => c.Key));
        }, StringComparer.Ordinal);
    }

    /// <summary>
    /// Applies <paramref name="now"/> in the write transaction: each customer's list against the one stored now (read here,
    /// so a concurrent erasure's subtraction is not undone), the difference to the counters. A customer no longer in the
    /// store (erased, or a device merged into a customer) counts nothing.
    /// </summary>
    public async Task ApplyAsync(DbConnection connection, DbTransaction tx, Dictionary<string, string> now, CancellationToken ct)
    {
        if (now.Count == 0)
            return;
        var sql = database.Dialect;
        var list = sql.List(now.Keys.ToArray());
        var stored = (await connection.QueryAsync<(string ProfileId, string Counted)>(new CommandDefinition(
            $"SELECT profile_id, counted FROM funnel_profiles WHERE {sql.In("profile_id", "@ids")}", new { ids = list }, tx, cancellationToken: ct)))
            .ToDictionary(s => s.ProfileId, s => s.Counted, StringComparer.Ordinal);
        var existing = (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT profile_id FROM profiles WHERE {sql.In("profile_id", "@ids")}", new { ids = list }, tx, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);

        var delta = new Dictionary<string, long>(StringComparer.Ordinal);
        var upserts = new List<object?[]>();
        var deletes = new List<string>();
        foreach (var (id, computed) in now)
        {
            var counted = existing.Contains(id) ? computed : "";
            var before = stored.GetValueOrDefault(id) ?? "";
            if (counted == before)
                continue;
            foreach (var key in before.Split(';', StringSplitOptions.RemoveEmptyEntries))
                delta[key] = delta.GetValueOrDefault(key) - 1;
            foreach (var key in counted.Split(';', StringSplitOptions.RemoveEmptyEntries))
                delta[key] = delta.GetValueOrDefault(key) + 1;
            if (counted.Length == 0)
                deletes.Add(id);
            else
                upserts.Add([id, counted]);
        }
        var rows = delta.Where(d => d.Value != 0).Select(d =>
        {
            var c = FunnelCount.FromKey(d.Key);
            return new object?[] { c.Day, (int)c.Kind, c.Cross ? 1 : 0, c.Phase, c.Other, c.Bucket, d.Value };
        }).ToList();
        await BulkRows.InsertAsync(connection, tx, sql, "funnel_counts", CountColumns, rows, ct,
            "ON CONFLICT (day, counter, cross_device, phase_rank, other_rank, bucket) DO UPDATE SET n = funnel_counts.n + excluded.n");
        await BulkRows.InsertAsync(connection, tx, sql, "funnel_profiles", ["profile_id", "counted"], upserts, ct,
            "ON CONFLICT (profile_id) DO UPDATE SET counted = excluded.counted");
        if (deletes.Count > 0)
            await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM funnel_profiles WHERE {sql.In("profile_id", "@deletes")}",
                new { deletes = sql.List(deletes) }, tx, cancellationToken: ct));
    }

    /// <summary>An erasure: what the customer's profiles added to the counters is taken out, in the erasure's transaction.</summary>
    public static async Task ForgetAsync(Database database, DbConnection connection, DbTransaction tx, IReadOnlyCollection<string> profileIds, CancellationToken ct)
    {
        var sql = database.Dialect;
        var stored = (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT counted FROM funnel_profiles WHERE {sql.In("profile_id", "@ids")}", new { ids = sql.List(profileIds) }, tx, cancellationToken: ct))).ToList();
        var rows = stored.SelectMany(s => s.Split(';', StringSplitOptions.RemoveEmptyEntries)).GroupBy(k => k, StringComparer.Ordinal).Select(g =>
        {
            var c = FunnelCount.FromKey(g.Key);
            return new object?[] { c.Day, (int)c.Kind, c.Cross ? 1 : 0, c.Phase, c.Other, c.Bucket, -(long)g.Count() };
        }).ToList();
        await BulkRows.InsertAsync(connection, tx, sql, "funnel_counts", CountColumns, rows, ct,
            "ON CONFLICT (day, counter, cross_device, phase_rank, other_rank, bucket) DO UPDATE SET n = funnel_counts.n + excluded.n");
        await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM funnel_profiles WHERE {sql.In("profile_id", "@ids")}",
            new { ids = sql.List(profileIds) }, tx, cancellationToken: ct));
        await CampaignResults.ForgetAsync(database, connection, tx, profileIds, ct);
    }

    /// <summary>
    /// The funnel of <paramref name="model"/> over the UTC days from <paramref name="from"/> up to <paramref name="to"/>
    /// (exclusive), for one device kind (<c>single</c>, <c>cross</c>) or both. With a <paramref name="segment"/> the customers
    /// it holds for now are counted from their stored contributions, at most <paramref name="scanLimit"/> of them.
    /// </summary>
    public async Task<FunnelView> ReadAsync(PhaseVocabulary model, DateTimeOffset from, DateTimeOffset to, bool? cross, Condition? segment,
        int scanLimit, CancellationToken ct)
    {
        var fromDay = FunnelContributions.Day(from);
        var toDay = FunnelContributions.Day(to.AddTicks(-1));
        bool inPeriod(FunnelCount c) => c.Kind == FunnelCountKind.Now || (string.CompareOrdinal(c.Day, fromDay) >= 0 && string.CompareOrdinal(c.Day, toDay) <= 0);
        await using var connection = await database.OpenAsync(ct);
        var countedUntil = await connection.ExecuteScalarAsync<object?>(new CommandDefinition("SELECT counted_at FROM funnel_state WHERE id = 1", cancellationToken: ct));
        List<FunnelCount> counts;
        FunnelScan? scan = null;
        if (segment is null)
        {
            counts = (await connection.QueryAsync<(string Day, int Counter, int Cross, int Phase, int Other, int Bucket, long N)>(new CommandDefinition(
                "SELECT day, counter, cross_device, phase_rank, other_rank, bucket, n FROM funnel_counts " +
                "WHERE (day = '' OR (day >= @fromDay AND day <= @toDay))" + (cross is null ? "" : " AND cross_device = @device"),
                new { fromDay, toDay, device = cross == true ? 1 : 0 }, cancellationToken: ct)))
                .Select(r => new FunnelCount((FunnelCountKind)r.Counter, r.Day, r.Cross == 1, r.Phase, r.Other, r.Bucket, r.N)).ToList();
        }
        else
        {
            counts = [];
            var scanned = 0;
            var matched = 0;
            var after = "";
            var complete = false;
            while (!complete && scanned < scanLimit)
            {
                var take = Math.Min(2000, scanLimit - scanned);
                var page = (await connection.QueryAsync<(string ProfileId, string Counted, string Traits, string? Phase, int OrderCount, decimal OrderTotal)>(new CommandDefinition(
                    "SELECT f.profile_id, f.counted, CAST(p.traits AS TEXT) AS traits, p.phase, p.order_count, p.order_total FROM funnel_profiles f " +
                    "JOIN profiles p ON p.profile_id = f.profile_id WHERE f.profile_id > @after ORDER BY f.profile_id LIMIT @take",
                    new { after, take }, cancellationToken: ct))).ToList();
                complete = page.Count < take;
                foreach (var p in page)
                {
                    if (!ConditionEvaluator.Evaluate(segment, ConditionSubject.OfCustomer(p.Traits, p.Phase, p.OrderCount, p.OrderTotal)))
                        continue;
                    matched++;
                    counts.AddRange(p.Counted.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(k => FunnelCount.FromKey(k))
                        .Where(c => (cross is null || c.Cross == cross) && inPeriod(c)));
                }
                scanned += page.Count;
                if (page.Count > 0)
                    after = page[^1].ProfileId;
            }
            scan = new FunnelScan(scanned, matched, scanLimit, complete);
        }
        var (phases, micro, customers) = Funnel.Build(counts, model);
        return new FunnelView(model.Name, from, to, cross is null ? null : cross.Value ? "cross" : "single", phases, micro, customers,
            countedUntil is null or DBNull ? null : DapperConfiguration.ReadTimestamp(countedUntil), scan);
    }
}

/// <summary>The answer of <c>GET /api/funnel</c>.</summary>
/// <param name="CountedUntil">When the funnel job last counted: events stored after it are not in the counts yet.</param>
/// <param name="Scan">With a segment: how many customers were judged, matched, and whether that was all of them.</param>
public sealed record FunnelView(string Model, DateTimeOffset From, DateTimeOffset To, string? Device, IReadOnlyList<FunnelPhase> Phases,
    IReadOnlyList<MicroConversion> MicroConversions, long Customers, DateTimeOffset? CountedUntil, FunnelScan? Scan);

/// <summary>A segment's scan: customers judged (at most <paramref name="Limit"/>), matched, and whether every customer was judged.</summary>
public sealed record FunnelScan(int Scanned, int Matched, int Limit, bool Complete);
