using System.Diagnostics;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;

namespace CampaignOrchestrator.Infrastructure.Journeys;

/// <summary>
/// The journey transaction's stages as spans in each event's own trace (<see cref="Traces"/>). One transaction stores a
/// batch of events from many traces, so the stages are timed once and, after the commit, recorded under each traced event's
/// consume span: <c>journey.store</c> (the whole transaction) with <c>rules.judge</c> and <c>actions.schedule</c> in it,
/// the latter saying how many actions that event scheduled. The actions keep the trace for their delivery.
/// Null (nothing timed) while no tracer listens or no event of the batch was traced.
/// </summary>
internal sealed class StageTimes
{
    public const int Judging = 0, Scheduling = 1, Committing = 2;

    readonly IReadOnlyList<AcceptedEvent> _events;
    readonly DateTimeOffset _start;
    readonly DateTimeOffset[] _marks = new DateTimeOffset[3];
    Dictionary<string, int>? _scheduled;

    StageTimes(IReadOnlyList<AcceptedEvent> events) => (_events, _start) = (events, Now());

    // Spans keep the wall clock, whatever clock the worker's logic runs on.
    static DateTimeOffset Now() => TimeProvider.System.GetUtcNow();

    public static StageTimes? Start(IReadOnlyList<AcceptedEvent> events) =>
        Traces.Source.HasListeners() && events.Any(e => e.TraceParent is not null) ? new StageTimes(events) : null;

    public void Mark(int stage) => _marks[stage] = Now();

    /// <summary>The planned actions, each carrying the trace of the event that scheduled it.</summary>
    public ActionWrites Trace(ActionWrites planned)
    {
        var traces = _events.Where(e => e.TraceParent is not null).GroupBy(e => e.EventId).ToDictionary(g => g.Key, g => g.First().TraceParent!, StringComparer.Ordinal);
        _scheduled = planned.Actions.GroupBy(a => a.TriggerId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return planned with { Actions = planned.Actions.Select(a => traces.TryGetValue(a.TriggerId, out var t) ? a with { TraceParent = t } : a).ToList() };
    }

    /// <summary>After the commit: the spans of each traced event the batch stored.</summary>
    public void Record(JourneyBatch batch)
    {
        var end = Now();
        var fresh = batch.Fresh.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
        foreach (var e in _events)
        {
            if (e.TraceParent is null || !ActivityContext.TryParse(e.TraceParent, null, out var parent))
                continue;
            using var store = Traces.Source.StartActivity("journey.store", ActivityKind.Internal, parent, startTime: _start);
            if (store is null)
                continue;
            store.SetTag("campaign_orchestrator.event_id", e.EventId).SetTag("campaign_orchestrator.event_type", e.Type)
                .SetTag("campaign_orchestrator.batch_size", _events.Count).SetTag("campaign_orchestrator.duplicate", !fresh.Contains(e.EventId));
            if (fresh.Contains(e.EventId) && _marks[Committing] != default)
            {
                using (var judge = Traces.Source.StartActivity("rules.judge", ActivityKind.Internal, store.Context, startTime: _marks[Judging]))
                    judge?.SetEndTime(_marks[Scheduling].UtcDateTime);
                using (var schedule = Traces.Source.StartActivity("actions.schedule", ActivityKind.Internal, store.Context, startTime: _marks[Scheduling]))
                {
                    schedule?.SetTag("campaign_orchestrator.actions.scheduled", _scheduled?.GetValueOrDefault(e.EventId) ?? 0);
                    schedule?.SetEndTime(_marks[Committing].UtcDateTime);
                }
            }
            store.SetEndTime(end.UtcDateTime);
        }
    }
}
