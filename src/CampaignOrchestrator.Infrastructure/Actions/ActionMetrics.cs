using System.Diagnostics.Metrics;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// Counts of what due actions became, and the firing lag (how long after its due time an action was
/// claimed) as a histogram since start: 1 ms buckets up to 1 s, then 100 ms buckets up to 10 min, and
/// one bucket beyond. Percentiles are read from the buckets, so reading the metrics costs nothing.
/// </summary>
public sealed class ActionMetrics
{
    readonly Counter<long>? _actions;
    readonly Histogram<double>? _lag;

    /// <summary>With a meter factory, also the instruments on the <c>CampaignOrchestrator</c> meter:
    /// <c>campaign_orchestrator.actions</c> (<c>{action}</c>, by <c>kind</c> and <c>outcome</c>) and
    /// <c>campaign_orchestrator.actions.firing_lag</c> (seconds from due to claimed).</summary>
    public ActionMetrics(IMeterFactory? meters = null)
    {
        if (meters is null)
            return;
        var meter = meters.Create(Messaging.InboundMetrics.MeterName);
        _actions = meter.CreateCounter<long>("campaign_orchestrator.actions", unit: "{action}",
            description: "Due actions recorded, by kind and outcome (delivered, failed, suppressed, deferred)");
        _lag = meter.CreateHistogram<double>("campaign_orchestrator.actions.firing_lag", unit: "s",
            description: "How long after its due time an action was claimed", advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
            });
    }

    const int FineBuckets = 1000;                  // 0-999 ms, 1 ms each
    const int CoarseBuckets = 6000;                // 1 s - 10 min, 100 ms each
    readonly long[] _buckets = new long[FineBuckets + CoarseBuckets + 1];
    long _due, _delivered, _failed, _suppressed, _deferred, _maxLagMs;

    internal void Due(TimeSpan lag)
    {
        _lag?.Record(Math.Max(0, lag.TotalSeconds));
        Interlocked.Increment(ref _due);
        var ms = Math.Max(0, (long)lag.TotalMilliseconds);
        var bucket = ms < FineBuckets ? ms : Math.Min(FineBuckets + (ms - FineBuckets) / 100, FineBuckets + CoarseBuckets);
        Interlocked.Increment(ref _buckets[bucket]);
        long max;
        while (ms > (max = Interlocked.Read(ref _maxLagMs)) && Interlocked.CompareExchange(ref _maxLagMs, ms, max) != max) { }
    }

    /// <summary>A fired action of <paramref name="kind"/> recorded with this status (pending again: deferred).</summary>
    internal void Finished(string kind, string status)
    {
        _actions?.Add(1, new KeyValuePair<string, object?>("kind", kind),
            new KeyValuePair<string, object?>("outcome", status == ActionStatus.Pending ? ActionStatus.Deferred : status));
        switch (status)
        {
            case ActionStatus.Delivered: Interlocked.Increment(ref _delivered); break;
            case ActionStatus.Failed: Interlocked.Increment(ref _failed); break;
            case ActionStatus.Suppressed: Interlocked.Increment(ref _suppressed); break;
            case ActionStatus.Pending: Interlocked.Increment(ref _deferred); break;
        }
    }

    long _lastPollTicks, _lastPollLagMs;

    /// <summary>A dispatcher poll ended (whether it found anything or not), the most late of its actions this late.</summary>
    internal void Polled(DateTimeOffset at, TimeSpan maxLag)
    {
        Interlocked.Exchange(ref _lastPollLagMs, Math.Max(0, (long)maxLag.TotalMilliseconds));
        Interlocked.Exchange(ref _lastPollTicks, at.UtcTicks);
    }

    sealed record Failure(DateTimeOffset At, string Reason);

    Failure? _lastFailure;

    /// <summary>A dispatcher poll failed as a whole (nothing of it recorded): readiness names the reason until a poll ends well.</summary>
    internal void PollFailed(DateTimeOffset at, string reason) => Volatile.Write(ref _lastFailure, new Failure(at, reason));

    /// <summary>The last poll that failed, and why; null when none did or a poll ended well since.</summary>
    public (DateTimeOffset At, string Reason)? PollFailing =>
        Volatile.Read(ref _lastFailure) is { } failure && (LastPoll is not { } poll || poll.At < failure.At) ? (failure.At, failure.Reason) : null;

    /// <summary>When the dispatcher last finished a poll, and how late the latest action of that poll was; null before the first.</summary>
    public (DateTimeOffset At, TimeSpan MaxLag)? LastPoll =>
        Interlocked.Read(ref _lastPollTicks) is var ticks and > 0
            ? (new DateTimeOffset(ticks, TimeSpan.Zero), TimeSpan.FromMilliseconds(Interlocked.Read(ref _lastPollLagMs)))
            : null;

    /// <summary>Totals since start.</summary>
    public (long Due, long Delivered, long Failed, long Suppressed, long Deferred) Totals =>
        (Interlocked.Read(ref _due), Interlocked.Read(ref _delivered), Interlocked.Read(ref _failed), Interlocked.Read(ref _suppressed), Interlocked.Read(ref _deferred));

    /// <summary>Firing lag percentiles in milliseconds since start (upper bound of the bucket), or null before the first.</summary>
    public (long P50, long P99, long Max)? Lag()
    {
        var counts = _buckets.Select(b => Interlocked.Read(ref b)).ToArray();
        var total = counts.Sum();
        if (total == 0)
            return null;
        long Percentile(double q)
        {
            var rank = (long)Math.Ceiling(total * q);
            long seen = 0;
            for (var i = 0; i < counts.Length; i++)
                if ((seen += counts[i]) >= rank)
                    return i < FineBuckets ? i : FineBuckets + (i - FineBuckets + 1) * 100L;
            return Interlocked.Read(ref _maxLagMs);
        }
        return (Percentile(0.5), Percentile(0.99), Interlocked.Read(ref _maxLagMs));
    }
}
