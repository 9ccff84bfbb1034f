using System.Data.Common;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// Where actions are fired, one poll at a time: <see cref="ActionStore.ClaimAsync"/> takes a batch of due actions,
/// <see cref="Judge"/> decides each with <see cref="SendPolicy"/> (holdout, consent, send window, caps), the rest are
/// delivered concurrently by their channels (<see cref="DeliverAllAsync"/>), and <see cref="FinishAsync"/> records every
/// outcome with the rows and events the channels returned, in one transaction and only while the claim holds.
/// On PostgreSQL several workers share the work (a claim is a row state fenced by a token; a dead worker's claims are
/// taken again after <see cref="SchedulingOptions.ClaimLease"/>); on SQLite (one worker per file) the claim lives in
/// memory. Either way exits leave claimed actions alone. See docs/decisions/0003-scheduled-actions.md.
/// </summary>
internal sealed class ActionDispatcher(Database database, ActionStore store, ActiveRules rules, IEnumerable<IActionChannel> channels,
    IJourneyWriter journeys, ActionMetrics metrics, TimeProvider time, IOptions<SchedulingOptions> options, ILogger<ActionDispatcher> logger,
    OutboxSignal? outbox = null) : BackgroundService
{
    readonly IActionChannel[] _channels = channels.ToArray();
    readonly SchedulingOptions _options = options.Value;

    /// <summary>Cancelled when the host's shutdown timeout (<c>Shutdown:Timeout</c>) runs out: sends still in flight then are given up.</summary>
    readonly CancellationTokenSource _hardStop = new();

    int _outboxWaiting;

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
                    if (!await ClockAgreesAsync(stoppingToken))
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                        continue;
                    }
                    claimed = await FireDueAsync(stoppingToken, _hardStop.Token);
                    if (claimed == 0)
                        metrics.Polled(time.GetUtcNow(), TimeSpan.Zero);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    Log.DispatchFailed(logger, ex.GetType().Name + ": " + ex.Message);
                    metrics.PollFailed(time.GetUtcNow(), ex.GetType().Name + ": " + ex.Message);
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

    long _clockCheckedAt;
    bool _clockSkewed;

    /// <summary>
    /// PostgreSQL: whether this machine's clock agrees with the database's within <see cref="SchedulingOptions.MaxClockSkew"/>
    /// (checked every 30 s; the machine's clock, not the injected one, since a test's clock may run ahead on purpose).
    /// A worker whose clock runs ahead would claim steps before they are due (and one behind, late).
    /// </summary>
    async Task<bool> ClockAgreesAsync(CancellationToken ct)
    {
        if (!database.Dialect.SharedByWorkers
            || (_clockCheckedAt != 0 && Stopwatch.GetElapsedTime(_clockCheckedAt) < TimeSpan.FromSeconds(_clockSkewed ? 5 : 30)))
            return !_clockSkewed;
        await using var connection = await database.OpenAsync(ct);
        var sent = TimeProvider.System.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        var theirs = await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition("SELECT clock_timestamp()", cancellationToken: ct));
        var roundTrip = Stopwatch.GetElapsedTime(started);
        var skew = sent + roundTrip / 2 - new DateTimeOffset(DateTime.SpecifyKind(theirs, DateTimeKind.Utc));
        _clockCheckedAt = Stopwatch.GetTimestamp();
        var skewed = skew.Duration() > _options.MaxClockSkew + roundTrip / 2;
        if (skewed && !_clockSkewed)
            Log.ClockSkewed(logger, skew.TotalMilliseconds);
        else if (!skewed && _clockSkewed)
            Log.ClockAgrees(logger, skew.TotalMilliseconds);
        _clockSkewed = skewed;
        return !skewed;
    }

    /// <summary>
    /// A stop claims nothing more; the round under way hands back what it has not started and records what is in flight
    /// as it ends, until the host's shutdown timeout (the token of this call) runs out.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await using var hard = cancellationToken.Register(() => _hardStop.Cancel());
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _hardStop.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// Claims, judges, delivers and records one batch of due actions; returns how many it claimed. <paramref name="stopping"/>
    /// stops the claim and the start of further sends (those are handed back, pending); <paramref name="hardStop"/> gives
    /// up the sends in flight. Outcomes are recorded as they come (group commits), so after a crash at most the sends in
    /// flight and the last group not yet committed are repeated (decision 0006).
    /// </summary>
    internal async Task<int> FireDueAsync(CancellationToken stopping, CancellationToken hardStop = default)
    {
        var started = Stopwatch.GetTimestamp();
        var startedAt = TimeProvider.System.GetUtcNow();   // spans keep the wall clock
        await using var connection = await database.OpenAsync(stopping);
        using var claim = await store.ClaimAsync(connection, time.GetUtcNow(), _options.BatchSize, _options.ClaimLease, stopping);
        if (claim.Actions.Count == 0)
            return 0;
        var claimed = Stopwatch.GetTimestamp();
        // One span per round that found work (an idle poll records nothing), from the claim on.
        using var round = Traces.Source.StartActivity("actions.fire", ActivityKind.Internal, parentContext: default, startTime: startedAt);
        round?.SetTag("campaign_orchestrator.actions.claimed", claim.Actions.Count);

        // From the claim on, a stop no longer cancels the round: what it holds is recorded or handed back.
        var finishing = System.Threading.Channels.Channel.CreateUnbounded<Outcome>();
        // Sends started and not yet recorded: at most four times the concurrency (the sends running, a group gathering and
        // one committing), the most a crash can repeat.
        using var window = new SemaphoreSlim(UnrecordedLimit);
        Task delivering;
        try
        {
            var customers = await ReadCustomersAsync(connection, claim, hardStop);
            var (judged, toDeliver) = Judge(claim, customers);
            foreach (var o in judged)
                finishing.Writer.TryWrite(o);
            delivering = DeliverAllAsync(claim, toDeliver, finishing.Writer, window, stopping, hardStop);
        }
        catch (Exception ex)
        {
            finishing.Writer.TryComplete();
            await HandBackAsync(claim, claim.Actions, hardStop, ex);
            throw;
        }
        var (finished, finishTurn, fired) = await FinishAllAsync(connection, claim, finishing.Reader, window, hardStop);
        await delivering;
        // The outbox publisher is woken once a round (once a group would have it publish a few rows at a time).
        if (Interlocked.Exchange(ref _outboxWaiting, 0) == 1)
            outbox?.Notify();

        metrics.Polled(time.GetUtcNow(), claim.At - claim.Actions.Min(a => a.DueAt));
        if (logger.IsEnabled(LogLevel.Debug))
        {
            static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
            Log.ActionsFired(logger, claim.Actions.Count, finished.Count(o => o.Status == ActionStatus.Delivered),
                Ms(claim.TurnAt, claimed), Ms(started, claim.TurnAt), Ms(claimed, fired), Ms(finishTurn, Stopwatch.GetTimestamp()), Ms(fired, finishTurn));
        }
        return claim.Actions.Count;
    }

    /// <summary>Gives back what a round could not judge (PostgreSQL: pending again at once; SQLite: the in-memory claim ends with the round).</summary>
    async Task HandBackAsync(ActionClaim claim, IEnumerable<ClaimedAction> actions, CancellationToken ct, Exception? cause)
    {
        try
        {
            await using var connection = await database.OpenAsync(ct);
            using var turn = await database.WriteTurnAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            await store.FinishAsync(connection, tx, claim, actions.Select(a => new ActionFinish(a.Seq, ActionStatus.Pending, null, null, null)).ToList(), ct);
            await tx.CommitAsync(ct);
        }
        catch (Exception ex) when (cause is not null)
        {
            // The claim then runs out (PostgreSQL) or ends with the round (SQLite): the actions fall due again either way.
            Log.DispatchFailed(logger, "handing back the claim failed: " + ex.GetType().Name + ": " + ex.Message);
        }
    }

    /// <summary>The claimed actions' customers, what judging them needs, and the events that triggered the messages.</summary>
    sealed record Customers(
        RuleDefaults Defaults,
        Dictionary<string, (string? CustomerId, string? Phase, IReadOnlyDictionary<string, JsonNode?> Traits)> ById,
        Dictionary<(string ProfileId, string Channel), List<DateTimeOffset>> Sends,
        bool TraitsRead,
        Dictionary<string, TriggerEvent>? Triggers);

    /// <summary>
    /// In one round trip: ids for the channels; traits (consent, time zone, address, locale) when an action goes to a channel
    /// that reads them; the triggering events of the messages (what their templates show). Then recent sends, on capped channels only.
    /// </summary>
    async Task<Customers> ReadCustomersAsync(DbConnection connection, ActionClaim claim, CancellationToken ct)
    {
        var defaults = rules.Current.Rules.Defaults;
        var sql = database.Dialect;
        var profileIds = claim.Actions.Select(c => c.ProfileId).Distinct(StringComparer.Ordinal).ToArray();
        var needTraits = claim.Actions.Any(c => !c.Holdout && (SendPolicy.IsMessage(c.Channel) || Array.Find(_channels, ch => ch.Handles(c.Kind)) is not IImmediateChannel));
        var triggerIds = claim.Actions.Where(c => !c.Holdout && SendPolicy.IsMessage(c.Channel)).Select(c => c.TriggerId).Distinct(StringComparer.Ordinal).ToArray();
        // A hot-path read of Storage's tables (TableOwnersTests names it): with the claim's round trip instead of through
        // JourneyReads, the email channel's two single-row reads a mail went (4,810 and 4,398 round trips a run; PostgreSQL
        // emails 71 % → 84 % of the sink's rate: docs/benchmarks.md, issue 4 and "After immediate delivery and the planner fixes").
        var read = new SqlBatch()
            .Append($"SELECT profile_id, customer_id, phase, {(needTraits ? "traits" : "NULL")} FROM profiles WHERE {sql.In("profile_id", "@p")};")
            .Add("p", sql.List(profileIds));
        if (triggerIds.Length > 0)
            read.Append($"SELECT event_id, type, occurred_at, properties, context FROM events WHERE {sql.In("event_id", "@t")};").Add("t", sql.List(triggerIds));
        Dictionary<string, (string?, string?, IReadOnlyDictionary<string, JsonNode?>)> byId;
        Dictionary<string, TriggerEvent>? triggers = null;
        await using (var grid = await read.QueryAsync(connection, null, ct))
        {
            byId = (await grid.ReadAsync<(string ProfileId, string? CustomerId, string? Phase, string? Traits)>())
                .ToDictionary(r => r.ProfileId, r => (r.CustomerId, r.Phase, (IReadOnlyDictionary<string, JsonNode?>)(r.Traits is null ? NoTraits : ParseTraits(r.Traits))),
                    StringComparer.Ordinal);
            if (triggerIds.Length > 0)
                triggers = (await grid.ReadAsync<TriggerEvent>()).ToDictionary(e => e.EventId, StringComparer.Ordinal);
        }
        var sends = new Dictionary<(string, string), List<DateTimeOffset>>();
        var capped = claim.Actions.Where(c => !c.Transactional && !c.Holdout && defaults.FrequencyCaps.Any(cap => cap.Channel == c.Channel)).ToList();
        if (capped.Count > 0)
        {
            // The rules bound a cap's window (RuleLimits.MaxValidity); bounded here too, so no window can take the round down.
            var lookBack = defaults.FrequencyCaps.Max(c => c.Per);
            var since = claim.At - (lookBack < RuleLimits.MaxValidity ? lookBack : RuleLimits.MaxValidity);
            foreach (var row in await store.RecentSendsAsync(connection, capped.Select(c => c.ProfileId).Distinct(StringComparer.Ordinal).ToArray(),
                         capped.Select(c => c.Channel).Distinct(StringComparer.Ordinal).ToArray(), since, ct))
                SendsOf(sends, row.ProfileId, row.Channel).Add(row.FinishedAt);
        }
        return new Customers(defaults, byId, sends, needTraits, triggers);
    }

    /// <summary>What a claimed action became, and what its channel asked to be written with it.</summary>
    sealed record Outcome(ClaimedAction Action, string Status, DateTimeOffset At, DateTimeOffset? NextDueAt, string? Detail, ChannelResult? Result = null)
    {
        /// <summary>The delivery's span (its outbound events link to it).</summary>
        public string? TraceParent { get; init; }

        /// <summary>It went through a send (it holds a place in the round's window of unrecorded sends until recorded).</summary>
        public bool Sent { get; init; }

        /// <summary>Not fired: given back pending, as it was (a stop, a claim that may have run out); no log row.</summary>
        public bool HandedBack { get; init; }

        public static Outcome HandBack(ClaimedAction action, DateTimeOffset at) => new(action, ActionStatus.Pending, at, null, null) { HandedBack = true };
    }

    /// <summary>
    /// Judges one by one, higher priority first, so it takes the cap before campaigns of lower priority (a send counts
    /// against the cap from the moment it is judged). Returns the suppressed and deferred, and what is to be delivered.
    /// </summary>
    (List<Outcome> Judged, List<(ClaimedAction Action, DueAction Due)> ToDeliver) Judge(ActionClaim claim, Customers customers)
    {
        var now = claim.At;
        var judged = new List<Outcome>(claim.Actions.Count);
        var toDeliver = new List<(ClaimedAction, DueAction)>();
        foreach (var a in claim.Actions.OrderByDescending(c => c.Priority).ThenBy(c => c.DueAt))
        {
            metrics.Due(now - a.DueAt);
            try
            {
                Judge(a, customers, now, judged, toDeliver);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // An action that cannot be judged (a row an older release wrote that this one cannot read) fails alone, with its
                // reason; the round goes on with the others.
                judged.Add(new Outcome(a, ActionStatus.Failed, now, null, $"could not be judged: {ex.GetType().Name}: {ex.Message}"));
            }
        }
        return (judged, toDeliver);
    }

    /// <summary>One action: delivered, suppressed or deferred (what it is to become is added to the lists).</summary>
    void Judge(ClaimedAction a, Customers customers, DateTimeOffset now, List<Outcome> judged, List<(ClaimedAction, DueAction)> toDeliver)
    {
        var (customerId, phase, traits) = customers.ById.GetValueOrDefault(a.ProfileId, (null, null, NoTraits));
        var decision = SendPolicy.Decide(a.Channel, a.Holdout, a.Transactional, traits, customers.Defaults, SendsOf(customers.Sends, a.ProfileId, a.Channel), now);
        switch (decision.Verdict)
        {
            case DueVerdict.Suppress:
                judged.Add(new Outcome(a, ActionStatus.Suppressed, now, null, decision.Reason));
                break;
            case DueVerdict.Defer:
                judged.Add(new Outcome(a, ActionStatus.Deferred, now, decision.Until, decision.Reason));
                break;
            default:
                toDeliver.Add((a, new DueAction(a.ActionId, a.CampaignId, a.Step, a.ProfileId, customerId, a.Kind, JsonNode.Parse(a.Settings) as JsonObject ?? [],
                    a.Variant, a.TriggerId, a.InstanceKey, a.Transactional, a.DueAt, a.RulesVersion, phase, a.Seq)
                {
                    Traits = customers.TraitsRead ? traits : null,
                    TriggerRead = customers.Triggers is not null && SendPolicy.IsMessage(a.Channel),
                    Trigger = customers.Triggers?.GetValueOrDefault(a.TriggerId),
                }));
                if (!a.Transactional)
                    SendsOf(customers.Sends, a.ProfileId, a.Channel).Add(now);
                break;
        }
    }

    /// <summary>
    /// Delivers as many at once as the channels' pools take (<see cref="SchedulingOptions.DeliveryConcurrency"/>), each
    /// outcome written to <paramref name="finished"/> as it comes. A send is not started once the worker stops or the
    /// claim may have run out (then another worker may hold it): those are handed back. A send given up at the shutdown
    /// timeout is handed back too (it may have reached the receiver: sent again, it carries the same Message-ID).
    /// </summary>
    async Task DeliverAllAsync(ActionClaim claim, List<(ClaimedAction Action, DueAction Due)> toDeliver, ChannelWriter<Outcome> finished,
        SemaphoreSlim window, CancellationToken stopping, CancellationToken hardStop)
    {
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, toDeliver.Count),
                new ParallelOptions { MaxDegreeOfParallelism = _options.DeliveryConcurrency }, async (i, _) =>
                {
                    var (a, due) = toDeliver[i];
                    await window.WaitAsync(CancellationToken.None);   // released once its outcome is recorded
                    if (stopping.IsCancellationRequested || !claim.Holds(_options.ClaimLease))
                    {
                        finished.TryWrite(Outcome.HandBack(a, time.GetUtcNow()) with { Sent = true });
                        return;
                    }
                    // Its own span under the round, linked to the trace of the event that scheduled it.
                    using var span = Traces.Source.StartActivity("action.deliver", ActivityKind.Internal, parentContext: default, links: Traces.LinkTo(a.TraceParent));
                    using var scope = Log.ActionScope(logger, a.ActionId, a.CampaignId, due.CustomerId ?? due.AnonymousId);
                    span?.SetTag("campaign_orchestrator.action_id", a.ActionId).SetTag("campaign_orchestrator.campaign_id", a.CampaignId)
                        .SetTag("campaign_orchestrator.step", a.Step).SetTag("campaign_orchestrator.kind", a.Kind);
                    ChannelResult result;
                    try
                    {
                        result = await DeliverAsync(due, hardStop);
                    }
                    catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
                    {
                        Log.SendGivenUp(logger, a.ActionId);
                        finished.TryWrite(Outcome.HandBack(a, time.GetUtcNow()) with { Sent = true });
                        return;
                    }
                    var at = time.GetUtcNow();
                    // A passing failure (receiver down, circuit open, database busy) is deferred: pending, it falls due again.
                    var status = ActionFinisher.StatusOf(result);
                    var outcome = new Outcome(a, status, at, status == ActionStatus.Deferred ? result.RetryAt : null, result.Detail,
                        status is ActionStatus.Delivered or ActionStatus.Failed ? result : null)
                        { TraceParent = Traces.ParentOf(span), Sent = true };
                    span?.SetTag("campaign_orchestrator.outcome", outcome.Status);
                    if (outcome.Status == ActionStatus.Failed)
                        span?.SetStatus(ActivityStatusCode.Error, result.Detail);
                    finished.TryWrite(outcome);
                });
        }
        finally
        {
            finished.TryComplete();
        }
    }

    /// <summary>
    /// Records the outcomes as they come: whatever has arrived is committed together, and what arrives meanwhile goes in the
    /// next commit. While it waits it renews the claim (PostgreSQL), so a slow send never lets the lease run out under it.
    /// A commit that fails for a passing reason (database restarting, busy) is tried again until the shutdown timeout:
    /// what was sent is not sent again because the database was away for a while.
    /// </summary>
    async Task<(List<Outcome> Finished, long TurnAt, long Fired)> FinishAllAsync(DbConnection connection, ActionClaim claim, ChannelReader<Outcome> outcomes,
        SemaphoreSlim window, CancellationToken hardStop)
    {
        var finished = new List<Outcome>(claim.Actions.Count);
        var group = new List<Outcome>();
        long turnAt = 0;
        var renewEvery = _options.ClaimLease / 4;
        while (true)
        {
            var more = outcomes.WaitToReadAsync(CancellationToken.None).AsTask();
            while (claim.Expires && !more.IsCompleted && await Task.WhenAny(more, Task.Delay(Max(renewEvery - claim.SinceRenewed, TimeSpan.FromSeconds(1)))) != more)
                await RenewAsync(claim);
            if (claim.Expires && claim.SinceRenewed >= renewEvery)
                await RenewAsync(claim);
            if (!await more)
                break;
            // A group gathers for a moment (GroupFor) or until it holds GroupSize outcomes: a commit per send
            // would cost more than the sends (measured: docs/benchmarks.md).
            var gathering = Stopwatch.GetTimestamp();
            while (true)
            {
                while (outcomes.TryRead(out var o))
                    group.Add(o);
                var left = GroupFor - Stopwatch.GetElapsedTime(gathering);
                if (group.Count >= GroupSize || left <= TimeSpan.Zero)
                    break;
                var next = outcomes.WaitToReadAsync(CancellationToken.None).AsTask();
                if (await Task.WhenAny(next, Task.Delay(left)) != next || !await next)
                    break;
            }
            var attempt = 0;
            var (done, at) = await _finishRetry.ExecuteAsync(async token =>
            {
                if (++attempt == 1)
                    return await FinishAsync(connection, claim, group, token);
                await using var fresh = await database.OpenAsync(token);
                return await FinishAsync(fresh, claim, group, token);
            }, hardStop);
            finished.AddRange(done);
            if (group.Count(o => o.Sent) is > 0 and var sent)
                window.Release(sent);
            if (turnAt == 0)
                turnAt = at;
            group.Clear();
        }
        return (finished, turnAt == 0 ? Stopwatch.GetTimestamp() : turnAt, Stopwatch.GetTimestamp());
    }

    /// <summary>Extends the claim's lease (PostgreSQL, by the database's clock); a failure is logged and the sends not yet started wait for the next.</summary>
    async Task RenewAsync(ActionClaim claim)
    {
        try
        {
            // Its own pooled connection: the round's may be broken by the failure the finish is retrying.
            await using var connection = await database.OpenAsync(CancellationToken.None);
            await store.RenewAsync(connection, claim, CancellationToken.None);
        }
        catch (Exception ex) when (TransientErrors.IsTransient(ex))
        {
            Log.DispatchFailed(logger, "renewing the claim failed: " + ex.GetType().Name + ": " + ex.Message);
        }
    }

    /// <summary>How long outcomes gather into one commit at most.</summary>
    static readonly TimeSpan GroupFor = TimeSpan.FromMilliseconds(100);

    /// <summary>Outcomes that make a group at once.</summary>
    int GroupSize => 2 * _options.DeliveryConcurrency;

    /// <summary>Sends started and not yet recorded, at most: what a crash can repeat (decision 0006).</summary>
    int UnrecordedLimit => 4 * _options.DeliveryConcurrency;

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>A finish that failed for a passing reason is tried again (0.5 s, doubling to 5 s) until the shutdown timeout.</summary>
    readonly ResiliencePipeline _finishRetry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        // Passing errors as long as it takes; any other (a connection the outage left broken reports itself as
        // InvalidOperationException) ten times: what was sent must be recorded, or it is sent again after the lease.
        ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e and not OperationCanceledException
            && (TransientErrors.IsTransient(e) || args.AttemptNumber < 10)),
        MaxRetryAttempts = int.MaxValue,
        Delay = TimeSpan.FromMilliseconds(500),
        MaxDelay = TimeSpan.FromSeconds(5),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        OnRetry = args =>
        {
            Log.FinishRetried(logger, args.AttemptNumber + 1, args.Outcome.Exception?.GetType().Name + ": " + args.Outcome.Exception?.Message);
            return default;
        },
    }).Build();

    /// <summary>Hands one action to its channel. A delivery that throws is judged here: transient, it falls due again; otherwise it failed for good.</summary>
    async Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken ct)
    {
        if (action.Kind == CompiledRules.DeriveKind)
            return await DeriveAsync(action, ct);
        if (action.Kind == CompiledRules.PhaseKind)
            return await ResetPhaseAsync(action, ct);
        var channel = Array.Find(_channels, c => c.Handles(action.Kind));
        if (channel is null)
            return ChannelResult.Failed($"no channel delivers '{action.Kind}'");
        ChannelResult result;
        try
        {
            result = await channel.DeliverAsync(action, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var reason = $"{ex.GetType().Name}: {ex.Message}";
            result = TransientErrors.IsTransient(ex)
                ? ChannelResult.Later("transient failure: " + reason, time.GetUtcNow() + _options.RetryAfter)
                : channel.Failure(action, reason);
        }
        Log.ActionDelivered(logger, action.ActionId, action.CampaignId, action.CustomerId, action.Kind, result.Delivered, result.Detail);
        return result;
    }

    /// <summary>Puts the derived event (a cart_abandoned) on the customer's timeline, where it triggers campaigns like a published one.</summary>
    async Task<ChannelResult> DeriveAsync(DueAction a, CancellationToken ct)
    {
        var properties = a.Settings["properties"]?.DeepClone() as JsonObject ?? [];
        properties["derived"] = true;
        var evt = new Core.Events.AcceptedEvent("derived-" + a.ActionId, (string)a.Settings["type"]!, a.DueAt, a.CustomerId, a.AnonymousId, null,
            properties, new JsonObject { ["derived"] = true, ["derivedFrom"] = (string?)a.Settings["derivedFrom"] });
        var stored = await journeys.WriteAsync(evt, ct);
        return ChannelResult.Ok(stored ? $"derived {evt.Type} {evt.EventId}" : $"derived {evt.Type} {evt.EventId} (already on the timeline)");
    }

    /// <summary>
    /// Sets the customer's phase (a churn rule sending a lapsed customer back to awareness): a <c>phase_reset</c> on the
    /// timeline at the step's due time, through the journey store, so the phase history, replay and phaseEntered
    /// campaigns see it as they see any event.
    /// </summary>
    async Task<ChannelResult> ResetPhaseAsync(DueAction a, CancellationToken ct)
    {
        var phase = (string?)a.Settings["set"];
        if (!PhaseNames.TryParse(phase, out var target))
            return ChannelResult.Failed($"set '{phase}' is not a phase");
        var evt = new Core.Events.AcceptedEvent("phase-reset-" + a.ActionId, PhaseModel.PhaseReset, a.DueAt, a.CustomerId, a.AnonymousId, null,
            new JsonObject { ["phase"] = target.ToName(), ["derived"] = true }, new JsonObject { ["derived"] = true, ["derivedFrom"] = a.ActionId });
        var stored = await journeys.WriteAsync(evt, ct);
        return ChannelResult.Ok(stored ? $"phase set to {target.ToName()} ({evt.EventId})" : $"phase set to {target.ToName()} ({evt.EventId}, already on the timeline)");
    }

    /// <summary>
    /// Records, in one transaction, what the claim still holds: each action's new state, one log row per firing (when it
    /// fell due, how late it was claimed, what it became), and the channels' rows and events of those it finished.
    /// Returns the outcomes recorded and when the write turn was had.
    /// </summary>
    async Task<(List<Outcome> Finished, long TurnAt)> FinishAsync(DbConnection connection, ActionClaim claim, List<Outcome> outcomes, CancellationToken ct)
    {
        using var turn = await database.WriteTurnAsync(ct);
        var turnAt = Stopwatch.GetTimestamp();
        await using var tx = await connection.BeginTransactionAsync(ct);
        var seqs = await store.FinishAsync(connection, tx, claim, outcomes.Select(o => o.HandedBack
            ? new ActionFinish(o.Action.Seq, ActionStatus.Pending, null, null, null)
            : new ActionFinish(o.Action.Seq, o.Status == ActionStatus.Deferred ? ActionStatus.Pending : o.Status, o.NextDueAt, o.NextDueAt is null ? o.At : null, o.Detail)).ToList(), ct);
        foreach (var lost in outcomes.Where(o => !seqs.Contains(o.Action.Seq)))
            Log.ClaimLost(logger, lost.Action.ActionId);
        var finished = outcomes.Where(o => seqs.Contains(o.Action.Seq) && !o.HandedBack).ToList();
        await store.AppendLogAsync(connection, tx, finished.Select(o => LogRow(claim, o)).ToList(), ct);
        var kept = finished.Where(o => o.Result is not null).ToList();
        await StoredRows.WriteAsync(connection, tx, database.Dialect, kept.SelectMany(o => o.Result!.Rows).ToList(), ct);
        var events = kept.SelectMany(o => o.Result!.Events.Select(e => (e, o.TraceParent))).ToList();
        await Outbox.AppendAsync(connection, tx, database.Dialect, events, ct);
        await tx.CommitAsync(ct);
        if (events.Count > 0)
            Interlocked.Exchange(ref _outboxWaiting, 1);
        // Counted once recorded (an outcome whose claim was lost, or a poll that failed before its commit, counts nothing).
        foreach (var o in finished)
            metrics.Finished(o.Action.Kind, o.Status == ActionStatus.Deferred ? ActionStatus.Pending : o.Status);
        return (finished, turnAt);
    }

    ActionLogRow LogRow(ActionClaim claim, Outcome o) =>
        ActionFinisher.Firing(o.Action.ActionId, o.Action.CampaignId, o.Action.Step, o.Action.ProfileId, o.Action.Kind, o.Action.RulesVersion, o.Action.Variant,
            o.Action.DueAt, o.Action.Seq, o.Status, o.At, claim.At, o.NextDueAt, o.Detail, _options.LateAfter);

    static readonly Dictionary<string, JsonNode?> NoTraits = [];

    static Dictionary<string, JsonNode?> ParseTraits(string json)
    {
        var result = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return result;   // unreadable traits read as none: marketing mail lacks consent, the rest goes on
        }
        if (parsed is JsonObject o)
            foreach (var (key, value) in o.ToList())
            {
                o.Remove(key);
                result[key] = value;
            }
        return result;
    }

    static List<DateTimeOffset> SendsOf(Dictionary<(string, string), List<DateTimeOffset>> sends, string profileId, string channel)
    {
        if (!sends.TryGetValue((profileId, channel), out var list))
            sends[(profileId, channel)] = list = [];
        return list;
    }
}
