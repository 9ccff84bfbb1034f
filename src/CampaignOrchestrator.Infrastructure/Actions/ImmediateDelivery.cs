using System.Data.Common;
using System.Diagnostics;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// Where a step due the moment it is planned, on a channel that only writes rows and events (<see cref="IImmediateChannel"/>:
/// banners), is delivered: inside the journey transaction that plans it. It is judged by the same <see cref="SendPolicy"/> as
/// the dispatcher would judge it (such a channel is no message and has no cap here, so only the holdout counts), written
/// with its outcome, its log row, the channel's rows and its outbound events in that transaction, and never claimed,
/// finished or read again. Everything else (a step with a delay, a message, a capped channel, an instance an exit of the
/// same batch may end, a device merged in the same batch) stays pending for <see cref="ActionDispatcher"/>.
/// See docs/decisions/0010-immediate-delivery.md.
/// </summary>
internal sealed class ImmediateDelivery(IEnumerable<IActionChannel> channels, ActionMetrics metrics, IOptions<SchedulingOptions> options, ILogger<ImmediateDelivery> logger,
    OutboxSignal? outbox = null)
{
    readonly IActionChannel[] _channels = channels.ToArray();
    readonly TimeSpan _lateAfter = options.Value.LateAfter;

    static readonly Dictionary<string, JsonNode?> NoTraits = [];

    /// <summary>What a batch delivers at once; <see cref="Committed"/> reports it after the commit.</summary>
    internal sealed class Taken
    {
        public static readonly Taken None = new([], [], []);

        internal Taken(List<ActionRow> rows, List<ActionLogRow> logs, List<Outcome> outcomes) => (Rows, Logs, Outcomes) = (rows, logs, outcomes);

        public List<ActionRow> Rows { get; }
        public List<ActionLogRow> Logs { get; }
        public List<Outcome> Outcomes { get; }

        /// <summary>The steps the insert took (a step stored before is neither delivered nor announced again).</summary>
        public HashSet<string> Written { get; set; } = [];

        public bool Announced { get; set; }
    }

    /// <summary>One step delivered at once: its row as written, its customer, what the channel returned (delivered only), its span.</summary>
    internal sealed record Outcome(ActionRow Row, string? CustomerId, ChannelResult? Result, Activity? Span);

    /// <summary>
    /// Takes from <paramref name="planned"/> the steps to deliver now and delivers them (nothing is written yet): returns the rest,
    /// for the store's ordinary writes, and what was taken, for <see cref="WriteAsync"/>.
    /// </summary>
    public (ActionWrites Others, Taken Delivered) Take(ActionWrites planned, RuleDefaults defaults, JourneyBatch batch)
    {
        if (planned.Actions.Count == 0)
            return (planned, Taken.None);
        var now = batch.Now;
        HashSet<(string, string)>? exiting = null;
        List<ActionRow>? rest = null;
        List<ActionRow> rows = [];
        List<ActionLogRow> logs = [];
        List<Outcome> outcomes = [];
        for (var i = 0; i < planned.Actions.Count; i++)
        {
            var row = planned.Actions[i];
            if (ChannelFor(row, defaults, now) is not { } channel
                || batch.MergedInto?.ContainsKey(row.ProfileId) == true
                || (exiting ??= planned.Exits.Select(x => (x.ProfileId, x.CampaignId)).ToHashSet()).Contains((row.ProfileId, row.CampaignId)))
            {
                rest?.Add(row);
                continue;
            }
            var decision = SendPolicy.Decide(row.Channel, row.Holdout, row.Transactional, NoTraits, defaults, [], now);
            ChannelResult? result = null;
            Activity? span = null;
            var profile = batch.Profiles.GetValueOrDefault(row.ProfileId);
            string status, detail;
            if (decision.Verdict == DueVerdict.Suppress)
                (status, detail) = (ActionStatus.Suppressed, decision.Reason!);
            else if (decision.Verdict == DueVerdict.Defer)
            {
                rest?.Add(row);
                continue;
            }
            else
            {
                var due = new DueAction(row.ActionId, row.CampaignId, row.Step, row.ProfileId, profile?.CustomerId, row.Kind,
                    JsonNode.Parse(row.Settings) as JsonObject ?? [], row.Variant, row.TriggerId, row.InstanceKey, row.Transactional, row.DueAt,
                    row.RulesVersion, profile?.Phase?.ToName());
                span = StartSpan(row);
                try
                {
                    result = channel.Deliver(due);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // It fails alone, with its reason: the event and the batch's other steps go on.
                    result = ChannelResult.Failed($"{ex.GetType().Name}: {ex.Message}");
                }
                if (result.RetryAt is not null)
                {
                    // Not a channel of this kind's doing; the dispatcher tries it again in its time.
                    span?.Dispose();
                    rest?.Add(row);
                    continue;
                }
                status = ActionFinisher.StatusOf(result);
                detail = result.Detail ?? "";
                span?.SetTag("campaign_orchestrator.outcome", status);
                if (status == ActionStatus.Failed)
                    span?.SetStatus(ActivityStatusCode.Error, detail);
                if (status != ActionStatus.Delivered)
                    result = null;
            }
            if (rest is null)
                rest = [.. planned.Actions.Take(i)];
            rows.Add(row with { Status = status, FinishedAt = now, Reason = detail });
            logs.Add(ActionFinisher.Firing(row.ActionId, row.CampaignId, row.Step, row.ProfileId, row.Kind, row.RulesVersion, row.Variant, row.DueAt, null,
                status, now, now, null, detail, _lateAfter));
            outcomes.Add(new Outcome(row with { Status = status, Reason = detail }, profile?.CustomerId, result, span));
        }
        return rest is null ? (planned, Taken.None) : (planned with { Actions = rest }, new Taken(rows, logs, outcomes));
    }

    /// <summary>The channel that delivers <paramref name="row"/> at once, or null when it waits for the dispatcher.</summary>
    IImmediateChannel? ChannelFor(ActionRow row, RuleDefaults defaults, DateTimeOffset now)
    {
        // Due when planned: no delay (whatever this machine's clock says) and not in the future (an event from a shop whose clock is ahead).
        if (row.Status != ActionStatus.Pending || row.DueAt > row.TriggeredAt || row.DueAt > now || SendPolicy.IsMessage(row.Channel))
            return null;
        foreach (var cap in defaults.FrequencyCaps)
            if (cap.Channel == row.Channel)
                return null;
        // The first channel that handles a kind delivers it, as in the dispatcher.
        return Array.Find(_channels, c => c.Handles(row.Kind)) as IImmediateChannel;
    }

    /// <summary>The delivery's span, in the trace of the event that planned it (nothing while no tracer listens).</summary>
    static Activity? StartSpan(ActionRow row)
    {
        if (row.TraceParent is null || !ActivityContext.TryParse(row.TraceParent, null, out var parent))
            return null;
        var previous = Activity.Current;
        var span = Traces.Source.StartActivity("action.deliver", ActivityKind.Internal, parent);
        Activity.Current = previous;
        span?.SetTag("campaign_orchestrator.action_id", row.ActionId).SetTag("campaign_orchestrator.campaign_id", row.CampaignId)
            .SetTag("campaign_orchestrator.step", row.Step).SetTag("campaign_orchestrator.kind", row.Kind).SetTag("campaign_orchestrator.immediate", true);
        return span;
    }

    /// <summary>
    /// Writes what <see cref="Take"/> delivered, in the journey transaction (after the journey's own writes): the steps with their
    /// outcome and log rows, then, for the steps the insert took, the channels' rows and the outbound events.
    /// </summary>
    public async Task WriteAsync(DbConnection connection, DbTransaction tx, ActionStore store, SqlDialect sql, Taken taken, CancellationToken ct)
    {
        if (taken.Rows.Count == 0)
            return;
        taken.Written = await store.InsertTakenAsync(connection, tx, taken.Rows, taken.Logs, ct);
        var kept = taken.Outcomes.Where(o => o.Result is not null && taken.Written.Contains(o.Row.ActionId)).ToList();
        if (kept.Count == 0)
            return;
        await StoredRows.WriteAsync(connection, tx, sql, kept.SelectMany(o => o.Result!.Rows).ToList(), ct);
        var events = kept.SelectMany(o => o.Result!.Events.Select(e => (e, Traces.ParentOf(o.Span)))).ToList();
        await Outbox.AppendAsync(connection, tx, sql, events, ct);
        taken.Announced = events.Count > 0;
    }

    /// <summary>After the commit: counted, logged, the outbox publisher woken, the spans ended.</summary>
    public void Committed(Taken taken)
    {
        if (taken.Outcomes.Count == 0)
            return;
        foreach (var (row, customerId, _, span) in taken.Outcomes)
        {
            span?.Dispose();
            if (!taken.Written.Contains(row.ActionId))
                continue;
            metrics.Due(row.CreatedAt - row.DueAt);
            metrics.Finished(row.Kind, row.Status);
            Log.ActionDelivered(logger, row.ActionId, row.CampaignId, customerId, row.Kind, row.Status == ActionStatus.Delivered, row.Reason);
        }
        if (taken.Announced)
            outbox?.Notify();
    }

    /// <summary>A batch that failed: the spans end (the steps are planned again when the batch is).</summary>
    public static void Abandoned(Taken taken)
    {
        foreach (var o in taken.Outcomes)
            o.Span?.Dispose();
    }
}
