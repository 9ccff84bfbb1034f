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
internal sealed class FunnelCounters(Database database, CampaignResults campaignResults, ActiveRules rules, TimeProvider time, ILogger<FunnelCounters> logger)
{
    /// <summary>Events read per step of the job; their customers are recounted together.</summary>
    public int PageSize { get; init; } = 2000;

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
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var (profiles, read) = await StepAsync(first, ct);
            first = false;
            recounted += profiles;
            if (read < PageSize)
                break;
            // Behind by more than a page: the job yields as long as its step took, so it takes at most half of a core from
            // the inbound path in a burst (it still counts far faster than events arrive: docs/benchmarks.md). Real time, not the
            // injected clock: this paces CPU, it is no business delay.
            await Task.Delay(System.Diagnostics.Stopwatch.GetElapsedTime(started), ct);
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
        var shared = sql.SharedByWorkers;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var connection = await database.OpenAsync(ct);
        await using var readTx = shared ? await connection.BeginTransactionAsync(ct) : null;
        if (!await sql.TryLockAsync(connection, readTx, AdvisoryLock, ct))
            return (0, 0);
        var (watermark, resultsWatermark) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            "SELECT watermark, results_watermark FROM funnel_state WHERE id = 1", transaction: readTx, cancellationToken: ct));
        var eventPage = (await connection.QueryAsync<PageEvent>(new CommandDefinition(
            "SELECT seq, profile_id, type, occurred_at FROM events WHERE seq > @watermark ORDER BY seq LIMIT @limit", new { watermark, limit = PageSize }, readTx,
            cancellationToken: ct))).ToList();
        var logPage = (await connection.QueryAsync<(long Seq, string ProfileId)>(new CommandDefinition(
            "SELECT seq, profile_id FROM action_log WHERE seq > @resultsWatermark ORDER BY seq LIMIT @limit", new { resultsWatermark, limit = PageSize }, readTx,
            cancellationToken: ct))).ToList();
        var events = eventPage;
        var logged = logPage;
        if (shared && first)
        {
            // Rows that committed below the watermark after it was set: the overlap read again, less what this job counted.
            events = [.. (await connection.QueryAsync<PageEvent>(new CommandDefinition(
                "SELECT seq, profile_id, type, occurred_at FROM events WHERE seq > @low AND seq <= @watermark", new { low = watermark - PostgresOverlap, watermark }, readTx,
                cancellationToken: ct))).Where(e => !_seenEvents.Contains(e.Seq)), .. eventPage];
            logged = [.. (await connection.QueryAsync<(long Seq, string ProfileId)>(new CommandDefinition(
                "SELECT seq, profile_id FROM action_log WHERE seq > @low AND seq <= @resultsWatermark", new { low = resultsWatermark - PostgresOverlap, resultsWatermark }, readTx,
                cancellationToken: ct))).Where(l => !_seenLog.Contains(l.Seq)), .. logPage];
        }
        var (regoaled, goals) = first ? await GoalChangesAsync(connection, readTx, ct) : ([], []);
        if (events.Count == 0 && logged.Count == 0 && regoaled.Count == 0 && goals.Count == 0)
            return (0, Math.Max(eventPage.Count, logPage.Count));

        var funnel = await ComputeAsync(connection, readTx, events, ct);
        // Results change with the action log, a goal event, a merge (the device's and the customer's), a new goal.
        var goalTypes = rules.Current.Rules.Campaigns.Select(c => c.Goal.Event).Append(Goal.Default.Event).ToHashSet(StringComparer.Ordinal);
        var forResults = logged.Select(l => l.ProfileId).Concat(regoaled).Concat(events.Where(e => goalTypes.Contains(e.Type)).Select(e => e.ProfileId))
            .Concat(funnel.Merged).Distinct(StringComparer.Ordinal).ToList();
        var results = await campaignResults.ComputeAsync(connection, readTx, forResults, GoalOf, ct);

        var reads = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        using var turn = shared ? default : await database.WriteTurnAsync(ct);
        var writing = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var writeConnection = shared ? null : await database.OpenAsync(ct);
        var (db, tx) = shared ? (connection, readTx!) : (writeConnection!, await writeConnection!.BeginTransactionAsync(ct));
        await using (shared ? null : tx)
        {
            // PostgreSQL: hold the customers as the journey writer and an erasure do, so an erasure that commits between the
            // reads and here is seen (its profile gone: counts nothing), and one that comes later subtracts what this wrote.
            if (sql.LockProfilesSql("@ids") is { } lockSql)
                await db.ExecuteScalarAsync<long>(new CommandDefinition(lockSql,
                    new { ids = funnel.Counts.Keys.Concat(forResults).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray() }, tx, cancellationToken: ct));
            await ApplyAsync(db, tx, funnel, ct);
            await campaignResults.ApplyAsync(db, tx, forResults, results, ct);
            await BulkRows.InsertAsync(db, tx, sql, "results_goals", ["campaign_id", "goal"], goals, ct, "ON CONFLICT (campaign_id) DO UPDATE SET goal = excluded.goal");
            await db.ExecuteAsync(new CommandDefinition(
                "UPDATE funnel_state SET watermark = @watermark, results_watermark = @resultsWatermark, counted_at = @now WHERE id = 1",
                new
                {
                    watermark = eventPage.Count == 0 ? watermark : eventPage[^1].Seq,
                    resultsWatermark = logPage.Count == 0 ? resultsWatermark : logPage[^1].Seq,
                    now = time.GetUtcNow(),
                }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
        if (shared)
        {
            _seenEvents.Add(events.Select(e => e.Seq));
            _seenLog.Add(logged.Select(l => l.Seq));
        }
        Log.FunnelCounted(logger, events.Count + logged.Count, funnel.Counts.Count + forResults.Count, eventPage.Count == 0 ? watermark : eventPage[^1].Seq,
            reads, System.Diagnostics.Stopwatch.GetElapsedTime(writing).TotalMilliseconds);
        return (funnel.Counts.Count, Math.Max(eventPage.Count, logPage.Count));
    }

    readonly RecentSeqs _seenEvents = new(PostgresOverlap), _seenLog = new(PostgresOverlap);

    /// <summary>The sequence numbers this job counted lately (the overlap's worth), so reading them again costs nothing.</summary>
    sealed class RecentSeqs(long keep)
    {
        readonly HashSet<long> _set = [];
        readonly Queue<long> _order = new();

        public bool Contains(long seq) => _set.Contains(seq);

        public void Add(IEnumerable<long> seqs)
        {
            foreach (var seq in seqs)
                if (_set.Add(seq))
                    _order.Enqueue(seq);
            while (_order.Count > keep)
                _set.Remove(_order.Dequeue());
        }
    }

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
                profiles.AddRange(await campaignResults.CountedProfilesAsync(connection, tx, campaign.Id, ct));
            changed.Add([campaign.Id, goal]);
        }
        return (profiles, changed);
    }

    /// <summary>One event of the job's page.</summary>
    internal sealed class PageEvent
    {
        public long Seq { get; set; }
        public string ProfileId { get; set; } = "";
        public string Type { get; set; } = "";
        public DateTimeOffset OccurredAt { get; set; }
    }

    /// <summary>What the customers of a page add now (and the merged devices and their customers, for the results).</summary>
    internal sealed record Recount(Dictionary<string, (string Counted, string Firsts)> Counts, IReadOnlyList<string> Merged);

    /// <summary>
    /// What the customers of <paramref name="events"/> (and the devices merged into them that still hold counts of their own)
    /// add to the funnel now: their contribution lists ("" for none) and first micro-conversion times. The first times come
    /// from the stored ones, a merged device's, and the page's events, so no customer's timeline is read. Reads only.
    /// </summary>
    internal async Task<Recount> ComputeAsync(DbConnection connection, DbTransaction? tx, IReadOnlyList<PageEvent> events, CancellationToken ct)
    {
        if (events.Count == 0)
            return new([], []);
        var sql = database.Dialect;
        var profileIds = events.Select(e => e.ProfileId).Distinct(StringComparer.Ordinal).ToArray();
        var customers = profileIds.Where(id => id.StartsWith("c:", StringComparison.Ordinal)).Select(id => id[2..]).ToArray();
        var links = customers.Length == 0 ? [] : (await connection.QueryAsync<(string CustomerId, string AnonymousId)>(new CommandDefinition(
            $"SELECT customer_id, anonymous_id FROM anonymous_links WHERE {sql.In("customer_id", "@customers")}",
            new { customers = sql.List(customers) }, tx, cancellationToken: ct))).ToList();
        var devices = links.Select(l => ProfileIds.ForAnonymous(l.AnonymousId)).Except(profileIds, StringComparer.Ordinal).ToArray();
        var stored = (await connection.QueryAsync<(string ProfileId, string? Firsts)>(new CommandDefinition(
            $"SELECT profile_id, firsts FROM funnel_profiles WHERE {sql.In("profile_id", "@ids")}", new { ids = sql.List([.. profileIds, .. devices]) }, tx,
            cancellationToken: ct))).ToDictionary(r => r.ProfileId, r => r.Firsts, StringComparer.Ordinal);
        // A device merged into a customer keeps its own counts until they end here; a device never counted has none to end.
        var merged = devices.Where(stored.ContainsKey).ToArray();
        var ids = profileIds.Concat(merged).ToArray();

        var history = (await connection.QueryAsync<(string ProfileId, string Phase, DateTimeOffset At)>(new CommandDefinition(
            $"SELECT profile_id, phase, occurred_at FROM phase_history WHERE {sql.In("profile_id", "@ids")} ORDER BY profile_id, occurred_at",
            new { ids = sql.List(ids) }, tx, cancellationToken: ct))).ToLookup(h => h.ProfileId, StringComparer.Ordinal);
        var linkCounts = links.GroupBy(l => l.CustomerId, StringComparer.Ordinal).ToDictionary(g => ProfileIds.ForCustomer(g.Key), g => g.Count(), StringComparer.Ordinal);
        var deviceOf = links.ToLookup(l => ProfileIds.ForCustomer(l.CustomerId), l => ProfileIds.ForAnonymous(l.AnonymousId), StringComparer.Ordinal);
        var page = events.ToLookup(e => e.ProfileId, StringComparer.Ordinal);
        var counts = ids.ToDictionary(id => id, id =>
        {
            var firsts = ReadFirsts(stored.GetValueOrDefault(id));
            foreach (var device in deviceOf[id])
                Earliest(firsts, ReadFirsts(stored.GetValueOrDefault(device)));
            foreach (var e in page[id])
                if (Array.IndexOf(FunnelContributions.MicroSteps, e.Type) is var step and >= 0 && (firsts[step] is null || e.OccurredAt < firsts[step]))
                    firsts[step] = e.OccurredAt;
            var phases = history[id].Select(h => (Phase: PhaseNames.TryParse(h.Phase, out var p) ? p : (Phase)0, h.At)).Where(h => h.Phase != 0).ToList();
            return (string.Join(';', FunnelContributions.Of(phases, linkCounts.GetValueOrDefault(id) >= CrossDeviceLinks, firsts).Select(c => c.Key)), WriteFirsts(firsts));
        }, StringComparer.Ordinal);
        return new(counts, [.. merged, .. merged.SelectMany(d => links.Where(l => ProfileIds.ForAnonymous(l.AnonymousId) == d).Select(l => ProfileIds.ForCustomer(l.CustomerId)))]);
    }

    static DateTimeOffset?[] ReadFirsts(string? text)
    {
        var firsts = new DateTimeOffset?[FunnelContributions.MicroSteps.Length];
        var parts = (text ?? "").Split(',');
        for (var i = 0; i < firsts.Length && i < parts.Length; i++)
            if (long.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks))
                firsts[i] = new DateTimeOffset(ticks, TimeSpan.Zero);
        return firsts;
    }

    static void Earliest(DateTimeOffset?[] into, DateTimeOffset?[] other)
    {
        for (var i = 0; i < into.Length; i++)
            if (other[i] is { } t && (into[i] is null || t < into[i]))
                into[i] = t;
    }

    static string WriteFirsts(DateTimeOffset?[] firsts) =>
        string.Join(',', firsts.Select(f => f?.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""));

    /// <summary>
    /// Applies a recount in the write transaction: each customer's list against the one stored now (read here, so a
    /// concurrent erasure's subtraction is not undone), the difference to the counters. A customer no longer in the store
    /// (erased, or a device merged into a customer) counts nothing.
    /// </summary>
    internal async Task ApplyAsync(DbConnection connection, DbTransaction tx, Recount recount, CancellationToken ct)
    {
        var now = recount.Counts;
        if (now.Count == 0)
            return;
        var sql = database.Dialect;
        var list = sql.List(now.Keys.ToArray());
        var stored = (await connection.QueryAsync<(string ProfileId, string Counted, string? Firsts)>(new CommandDefinition(
            $"SELECT profile_id, counted, firsts FROM funnel_profiles WHERE {sql.In("profile_id", "@ids")}", new { ids = list }, tx, cancellationToken: ct)))
            .ToDictionary(s => s.ProfileId, s => (s.Counted, s.Firsts ?? ""), StringComparer.Ordinal);
        var existing = (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT profile_id FROM profiles WHERE {sql.In("profile_id", "@ids")}", new { ids = list }, tx, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);

        var delta = new Dictionary<string, long>(StringComparer.Ordinal);
        var upserts = new List<object?[]>();
        var deletes = new List<string>();
        foreach (var (id, computed) in now)
        {
            var (counted, firsts) = existing.Contains(id) ? computed : ("", "");
            var (before, firstsBefore) = stored.GetValueOrDefault(id, ("", ""));
            if (counted == before && firsts == firstsBefore)
                continue;
            foreach (var key in before.Split(';', StringSplitOptions.RemoveEmptyEntries))
                delta[key] = delta.GetValueOrDefault(key) - 1;
            foreach (var key in counted.Split(';', StringSplitOptions.RemoveEmptyEntries))
                delta[key] = delta.GetValueOrDefault(key) + 1;
            if (counted.Length == 0 && firsts.Replace(",", "", StringComparison.Ordinal).Length == 0)
                deletes.Add(id);
            else
                upserts.Add([id, counted, firsts]);
        }
        var rows = delta.Where(d => d.Value != 0).Select(d =>
        {
            var c = FunnelCount.FromKey(d.Key);
            return new object?[] { c.Day, (int)c.Kind, c.Cross ? 1 : 0, c.Phase, c.Other, c.Bucket, d.Value };
        }).ToList();
        await BulkRows.InsertAsync(connection, tx, sql, "funnel_counts", CountColumns, rows, ct,
            "ON CONFLICT (day, counter, cross_device, phase_rank, other_rank, bucket) DO UPDATE SET n = funnel_counts.n + excluded.n");
        await BulkRows.InsertAsync(connection, tx, sql, "funnel_profiles", ["profile_id", "counted", "firsts"], upserts, ct,
            "ON CONFLICT (profile_id) DO UPDATE SET counted = excluded.counted, firsts = excluded.firsts");
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
