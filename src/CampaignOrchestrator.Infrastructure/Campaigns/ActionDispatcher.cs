using System.Data.Common;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>
/// Where actions are fired: claims due actions from the scheduled-actions table in batches
/// (<c>FOR UPDATE SKIP LOCKED</c> on PostgreSQL, so several workers share the work and none fires an
/// action another holds; one claimer per SQLite file), judges each with <see cref="SendPolicy"/>
/// (holdout, consent, send window, caps), hands the rest to its channel, and records every outcome.
/// On PostgreSQL a claim is a row state fenced by a token: only the claimer that holds it may finish the
/// action, and claims of a worker that died are taken again after <see cref="SchedulingOptions.ClaimLease"/>.
/// On SQLite (one worker per file) the claim is kept in memory (<see cref="Database.InFlight"/>), so a killed
/// worker simply leaves its actions pending. Either way exits leave claimed actions alone.
/// See docs/decisions/0003-scheduled-actions.md.
/// </summary>
internal sealed class ActionDispatcher(Database database, ActiveRules rules, IEnumerable<IActionChannel> channels, IJourneyWriter journeys,
    ActionMetrics metrics, TimeProvider time, IOptions<SchedulingOptions> options, ILogger<ActionDispatcher> logger,
    Messaging.OutboxSignal? outbox = null) : BackgroundService
{
    readonly SqlDialect _sql = database.Dialect;
    readonly IActionChannel[] _channels = channels.ToArray();
    readonly SchedulingOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var claimed = 0;
                try
                {
                    claimed = await FireDueAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    Log.DispatchFailed(logger, ex.GetType().Name + ": " + ex.Message);
                    await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                }
                if (claimed < _options.BatchSize)
                    await Task.Delay(_options.PollInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Claims and fires one batch of due actions; returns how many it claimed.</summary>
    internal async Task<int> FireDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var token = Guid.NewGuid().ToString("N");
        await using var connection = await database.OpenAsync(ct);

        // SQLite (one worker per file): the claim is kept in memory (Database.InFlight), taken in the write
        // turn so no exit can slip between reading a row and claiming it; nothing is written, no fsync.
        const string returning = "seq, action_id, campaign_id, step, profile_id, instance_key, trigger_id, kind, channel, settings, variant, holdout, transactional, priority, rules_version, due_at";
        List<ClaimedRow> claimed;
        var timing = new PollTiming(System.Diagnostics.Stopwatch.GetTimestamp());
        if (database.InFlight is { } inFlight)
        {
            using (await database.WriteTurnAsync(ct))
            {
                timing.ClaimTurn = System.Diagnostics.Stopwatch.GetTimestamp();
                claimed = (await connection.QueryAsync<ClaimedRow>(new CommandDefinition(
                    // The first condition is the partial index's own, so SQLite uses it (it does not infer it from the second).
                    $"SELECT {returning} FROM scheduled_actions WHERE status IN ('{ActionStatus.Pending}', '{ActionStatus.Claimed}') " +
                    $"AND status = '{ActionStatus.Pending}' AND due_at <= @now ORDER BY due_at LIMIT @limit",
                    new { now, limit = _options.BatchSize }, cancellationToken: ct))).ToList();
                foreach (var c in claimed)
                    inFlight[c.ActionId] = 0;
            }
            try
            {
                return await FireClaimedAsync(connection, claimed, now, token, timing, ct);
            }
            finally
            {
                foreach (var c in claimed)
                    inFlight.TryRemove(c.ActionId, out _);
            }
        }
        using (await database.WriteTurnAsync(ct))
        {
            timing.ClaimTurn = System.Diagnostics.Stopwatch.GetTimestamp();
            await using var claim = await connection.BeginTransactionAsync(ct);
            await IndexPlansAsync(connection, claim, ct);
            claimed = (await connection.QueryAsync<ClaimedRow>(new CommandDefinition(
                $"UPDATE scheduled_actions SET status = '{ActionStatus.Claimed}', claimed_at = @now, claim_token = @token WHERE seq IN (" +
                $"SELECT seq FROM scheduled_actions WHERE status IN ('{ActionStatus.Pending}', '{ActionStatus.Claimed}') AND due_at <= @now " +
                $"AND (status = '{ActionStatus.Pending}' OR claimed_at < @expired) ORDER BY due_at LIMIT @limit" +
                (_sql.Provider == StorageProvider.Postgres ? " FOR UPDATE SKIP LOCKED" : "") + ") " +
                "RETURNING " + returning,
                new { now, token, expired = now - _options.ClaimLease, limit = _options.BatchSize }, claim, cancellationToken: ct))).ToList();
            await claim.CommitAsync(ct);
        }
        return await FireClaimedAsync(connection, claimed, now, token, timing, ct);
    }

    async Task<int> FireClaimedAsync(System.Data.Common.DbConnection connection, List<ClaimedRow> claimed, DateTimeOffset now, string token, PollTiming timing, CancellationToken ct)
    {
        if (claimed.Count == 0)
            return 0;
        timing.Claimed = System.Diagnostics.Stopwatch.GetTimestamp();

        // The customers: ids for the channels; traits (consent, time zone) only when a marketing message
        // needs them; recent sends only on channels with a cap.
        var defaults = rules.Current.Rules.Defaults;
        var profileIds = claimed.Select(c => c.ProfileId).Distinct(StringComparer.Ordinal).ToArray();
        // Traits for consent, time zone and the email channel's address and locale (also of transactional mail).
        var needTraits = claimed.Any(c => !c.Holdout && SendPolicy.IsMessage(c.Channel));
        var customers = (await connection.QueryAsync<(string ProfileId, string? CustomerId, string? Phase, string? Traits)>(new CommandDefinition(
                $"SELECT profile_id, customer_id, phase, {(needTraits ? "traits" : "NULL")} FROM profiles WHERE {_sql.In("profile_id", "@p")}",
                new { p = _sql.List(profileIds) }, cancellationToken: ct)))
            .ToDictionary(r => r.ProfileId, r => (r.CustomerId, r.Phase, Traits: r.Traits is null ? NoTraits : ParseTraits(r.Traits)), StringComparer.Ordinal);
        var sends = new Dictionary<(string, string), List<DateTimeOffset>>();
        var capped = claimed.Where(c => !c.Transactional && !c.Holdout && defaults.FrequencyCaps.Any(cap => cap.Channel == c.Channel)).ToList();
        if (capped.Count > 0)
        {
            var since = now - defaults.FrequencyCaps.Max(c => c.Per);
            var rows = await connection.QueryAsync<(string ProfileId, string Channel, DateTimeOffset FinishedAt)>(new CommandDefinition(
                $"SELECT profile_id, channel, finished_at FROM scheduled_actions WHERE {_sql.In("profile_id", "@p")} " +
                $"AND status = '{ActionStatus.Delivered}' AND NOT transactional AND finished_at > @since",
                new { p = _sql.List(capped.Select(c => c.ProfileId).Distinct(StringComparer.Ordinal).ToArray()), since }, cancellationToken: ct));
            foreach (var row in rows)
                SendsOf(sends, row.ProfileId, row.Channel).Add(row.FinishedAt);
        }

        // Judged one by one, higher priority first, so it takes the cap before campaigns of lower priority (a send counts
        // against the cap from the moment it is judged); then delivered concurrently, as many at once as the channels'
        // pools take (Scheduling:DeliveryConcurrency), and recorded in the order judged.
        var finished = new List<object?[]>(claimed.Count);
        var logs = new List<object?[]>(claimed.Count * 2);
        var kept = new List<(IStoredActionChannel Channel, DueAction Action, DateTimeOffset At, long Seq)>();
        var failedOnes = new List<(IStoredActionChannel Channel, DueAction Action, DateTimeOffset At, string? Reason, long Seq)>();
        var toDeliver = new List<(ClaimedRow Action, string? CustomerId, string? Phase, IReadOnlyDictionary<string, JsonNode?> Traits)>();
        foreach (var a in claimed.OrderByDescending(c => c.Priority).ThenBy(c => c.DueAt))
        {
            var lag = now - a.DueAt;
            metrics.Due(lag);
            var (customerId, phase, traits) = customers.GetValueOrDefault(a.ProfileId, (null, null, NoTraits));
            var decision = SendPolicy.Decide(a.Channel, a.Holdout, a.Transactional, traits, defaults, SendsOf(sends, a.ProfileId, a.Channel), now);
            switch (decision.Verdict)
            {
                case DueVerdict.Suppress:
                    finished.Add([a.Seq, ActionStatus.Suppressed, null, now, decision.Reason]);
                    logs.Add(LogRow(a, ActionStatus.Suppressed, now, null, Reason(a, decision.Reason), LateMs(a)));
                    break;
                case DueVerdict.Defer:
                    finished.Add([a.Seq, ActionStatus.Pending, decision.Until, null, decision.Reason]);
                    logs.Add(LogRow(a, ActionStatus.Deferred, now, decision.Until, Reason(a, decision.Reason), LateMs(a)));
                    break;
                default:
                    toDeliver.Add((a, customerId, phase, traits));
                    if (!a.Transactional)
                        SendsOf(sends, a.ProfileId, a.Channel).Add(now);
                    break;
            }
        }

        var results = new (ChannelResult Result, DueAction? Action, IActionChannel? Channel, DateTimeOffset At)[toDeliver.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, toDeliver.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.DeliveryConcurrency, CancellationToken = ct }, async (i, token) =>
            {
                var (a, customerId, phase, traits) = toDeliver[i];
                var (result, due, channel) = await DeliverAsync(a, customerId, phase, traits, token);
                results[i] = (result, due, channel, time.GetUtcNow());
            });
        for (var i = 0; i < toDeliver.Count; i++)
        {
            var a = toDeliver[i].Action;
            var (result, due, channel, at) = results[i];
            if (result.Suppressed)
            {
                finished.Add([a.Seq, ActionStatus.Suppressed, null, at, result.Detail]);
                logs.Add(LogRow(a, ActionStatus.Suppressed, at, null, Reason(a, result.Detail), LateMs(a)));
                continue;
            }
            if (result.RetryAt is { } retryAt)
            {
                // A passing failure (receiver down, circuit open): it waits, pending, and falls due again.
                finished.Add([a.Seq, ActionStatus.Pending, retryAt, null, result.Detail]);
                logs.Add(LogRow(a, ActionStatus.Deferred, at, retryAt, Reason(a, result.Detail), LateMs(a)));
                continue;
            }
            if (channel is IStoredActionChannel keeper && due is not null)
            {
                if (result.Delivered)
                    kept.Add((keeper, due, at, a.Seq));
                else
                    failedOnes.Add((keeper, due, at, result.Detail, a.Seq));
            }
            var status = result.Delivered ? ActionStatus.Delivered : ActionStatus.Failed;
            finished.Add([a.Seq, status, null, at, result.Detail]);
            logs.Add(LogRow(a, status, at, null, Reason(a, result.Detail), LateMs(a)));
        }

        // One log row per firing: when it fell due (due_at), how late it was claimed (late_ms), and what it became.
        long LateMs(ClaimedRow a) => (long)(now - a.DueAt).TotalMilliseconds;
        string? Reason(ClaimedRow a, string? what) => now - a.DueAt is var lag && lag > _options.LateAfter
            ? $"late: fired {lag:g} after its due time" + (what is null ? "" : "; " + what) : what;

        // Finish what this claim still holds, and record it, in one transaction.
        timing.Fired = System.Diagnostics.Stopwatch.GetTimestamp();
        using var turn = await database.WriteTurnAsync(ct);
        timing.FinishTurn = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var tx = await connection.BeginTransactionAsync(ct);
        await IndexPlansAsync(connection, tx, ct);
        string[] columns = ["seq", "status", "due_at", "finished_at", "reason"];
        var args = new DynamicParameters(new { token });
        string source;
        if (_sql.Provider == StorageProvider.Postgres)
            source = BulkRows.Unnest(args, "x", columns, finished).From;
        else
        {
            source = "(SELECT value->>0 AS seq, value->>1 AS status, value->>2 AS due_at, value->>3 AS finished_at, value->>4 AS reason FROM jsonb_each(CAST(@rows AS TEXT))) AS x";
            args.Add("rows", BulkRows.ToJson(_sql, columns, finished));
        }
        var finishedSeqs = (await connection.QueryAsync<long>(new CommandDefinition(
            $"UPDATE scheduled_actions SET status = x.status, due_at = COALESCE(x.due_at, scheduled_actions.due_at), finished_at = x.finished_at, " +
            $"reason = x.reason, claimed_at = NULL, claim_token = NULL FROM {source} " +
            "WHERE scheduled_actions.seq = x.seq AND " +
            (database.InFlight is null ? "scheduled_actions.claim_token = @token" : $"scheduled_actions.status = '{ActionStatus.Pending}'") +
            " RETURNING scheduled_actions.seq",
            args, tx, cancellationToken: ct))).ToHashSet();
        if (finishedSeqs.Count < finished.Count)
        {
            foreach (var lost in claimed.Where(c => !finishedSeqs.Contains(c.Seq)))
                Log.ClaimLost(logger, lost.ActionId);
            logs.RemoveAll(l => !finishedSeqs.Contains((long)l[^1]!));
        }
        await BulkRows.InsertAsync(connection, tx, _sql, "action_log", CampaignScheduler.LogColumns, logs, ct);
        // What channels keep of their deliveries (banner placements) and their outbound events, only for the actions
        // this claim still finished.
        var stored = kept.Where(k => finishedSeqs.Contains(k.Seq)).ToList();
        foreach (var group in stored.GroupBy(k => k.Channel))
            await group.Key.StoreAsync(connection, tx, _sql, group.Select(k => (k.Action, k.At)).ToList(), ct);
        var failedForGood = failedOnes.Where(l => finishedSeqs.Contains(l.Seq)).ToList();
        foreach (var group in failedForGood.GroupBy(l => l.Channel))
            await group.Key.StoreFailedAsync(connection, tx, _sql, group.Select(l => (l.Action, l.At, l.Reason)).ToList(), ct);
        await tx.CommitAsync(ct);
        if (stored.Count + failedForGood.Count > 0)
            outbox?.Notify();
        // Counted once recorded (an outcome whose claim was lost, or a poll that failed before its commit, counts nothing).
        foreach (var f in finished)
            if (finishedSeqs.Contains((long)f[0]!))
                metrics.Finished((string)f[1]!);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            static double Ms(long from, long to) => System.Diagnostics.Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
            var end = System.Diagnostics.Stopwatch.GetTimestamp();
            Log.ActionsFired(logger, claimed.Count, finished.Count(f => (string)f[1]! == ActionStatus.Delivered),
                Ms(timing.ClaimTurn, timing.Claimed), Ms(timing.Started, timing.ClaimTurn), Ms(timing.Claimed, timing.Fired),
                Ms(timing.FinishTurn, end), Ms(timing.Fired, timing.FinishTurn));
        }
        return claimed.Count;
    }

    /// <summary>
    /// PostgreSQL: the claim walks the due index in due order and stops at the batch; the finish finds each
    /// row by its seq. Left to itself, the planner picked a bitmap scan of the due index (while few rows look
    /// due), which visits every row the index still lists — also the ones fired since the last vacuum — and
    /// never marks those entries dead, or a sequential scan while the table's statistics were young; both grew
    /// with the table (measured: docs/benchmarks.md). For this transaction only.
    /// </summary>
    async Task IndexPlansAsync(DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        if (_sql.Provider == StorageProvider.Postgres)
            await connection.ExecuteAsync(new CommandDefinition("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off", transaction: tx, cancellationToken: ct));
    }

    async Task<(ChannelResult Result, DueAction? Action, IActionChannel? Channel)> DeliverAsync(ClaimedRow a, string? customerId, string? phase,
        IReadOnlyDictionary<string, JsonNode?> traits, CancellationToken ct)
    {
        if (a.Kind == CompiledRules.DeriveKind)
            return (await DeriveAsync(a, customerId, ct), null, null);
        var channel = Array.Find(_channels, c => c.Handles(a.Kind));
        if (channel is null)
            return (ChannelResult.Failed($"no channel delivers '{a.Kind}'"), null, null);
        var settings = JsonNode.Parse(a.Settings) as JsonObject ?? [];
        var action = new DueAction(a.ActionId, a.CampaignId, a.Step, a.ProfileId, customerId, a.Kind, settings, a.Variant,
            a.TriggerId, a.InstanceKey, a.Transactional, a.DueAt, a.RulesVersion, phase, a.Seq) { Traits = traits.Count > 0 ? traits : null };
        try
        {
            var result = await channel.DeliverAsync(action, ct);
            Log.ActionDelivered(logger, a.ActionId, a.CampaignId, customerId, a.Kind, result.Delivered, result.Detail);
            return (result, action, channel);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.ActionDelivered(logger, a.ActionId, a.CampaignId, customerId, a.Kind, false, ex.Message);
            return (ChannelResult.Failed($"{ex.GetType().Name}: {ex.Message}"), action, channel);
        }
    }

    /// <summary>Puts the derived event (a cart_abandoned) on the customer's timeline, where it triggers campaigns like a published one.</summary>
    async Task<ChannelResult> DeriveAsync(ClaimedRow a, string? customerId, CancellationToken ct)
    {
        var settings = JsonNode.Parse(a.Settings) as JsonObject ?? [];
        var properties = settings["properties"] as JsonObject ?? [];
        properties["derived"] = true;
        var anonymousId = customerId is null && a.ProfileId.StartsWith("a:", StringComparison.Ordinal) ? a.ProfileId[2..] : null;
        var evt = new Core.Events.AcceptedEvent("derived-" + a.ActionId, (string)settings["type"]!, a.DueAt, customerId, anonymousId, null,
            (JsonObject)properties.DeepClone(), new JsonObject { ["derived"] = true, ["derivedFrom"] = (string?)settings["derivedFrom"] });
        var stored = await journeys.WriteAsync(evt, ct);
        return ChannelResult.Ok(stored ? $"derived {evt.Type} {evt.EventId}" : $"derived {evt.Type} {evt.EventId} (already on the timeline)");
    }

    static object?[] LogRow(ClaimedRow a, string outcome, DateTimeOffset at, DateTimeOffset? nextDue, string? reason, long lateMs) =>
        [a.ActionId, a.CampaignId, a.Step, a.ProfileId, a.Kind, outcome, at, a.DueAt, nextDue, reason, null, a.RulesVersion, a.Variant, lateMs, a.Seq];

    static readonly Dictionary<string, JsonNode?> NoTraits = [];

    static Dictionary<string, JsonNode?> ParseTraits(string json)
    {
        var result = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (JsonNode.Parse(json) is JsonObject o)
            foreach (var (key, value) in o.ToList())
            {
                o.Remove(key);
                result[key] = value;
            }
        return result;
    }

    static List<DateTimeOffset> SendsOf(Dictionary<(string, string), List<DateTimeOffset>> sends, string profileId, string kind)
    {
        if (!sends.TryGetValue((profileId, kind), out var list))
            sends[(profileId, kind)] = list = [];
        return list;
    }

    /// <summary>Stopwatch timestamps of one poll, for the debug log.</summary>
    sealed class PollTiming(long started)
    {
        public long Started { get; } = started;
        public long ClaimTurn { get; set; }
        public long Claimed { get; set; }
        public long Fired { get; set; }
        public long FinishTurn { get; set; }
    }

    sealed class ClaimedRow
    {
        public long Seq { get; set; }
        public string ActionId { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public int Step { get; set; }
        public string ProfileId { get; set; } = "";
        public string? InstanceKey { get; set; }
        public string TriggerId { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Channel { get; set; } = "";
        public string Settings { get; set; } = "{}";
        public int Variant { get; set; }
        public bool Holdout { get; set; }
        public bool Transactional { get; set; }
        public int Priority { get; set; }
        public string RulesVersion { get; set; } = "";
        public DateTimeOffset DueAt { get; set; }
    }
}
