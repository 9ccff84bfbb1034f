namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>Counts of what due actions became, and the firing lag (how long after its due time an action was claimed).</summary>
public sealed class ActionMetrics
{
    long _due, _delivered, _failed, _suppressed, _deferred;
    readonly long[] _lags = new long[1 << 16];
    long _lagCount;

    internal void Due(TimeSpan lag)
    {
        Interlocked.Increment(ref _due);
        var i = Interlocked.Increment(ref _lagCount) - 1;
        _lags[i & (_lags.Length - 1)] = Math.Max(0, (long)lag.TotalMilliseconds);
    }

    internal void Delivered() => Interlocked.Increment(ref _delivered);

    internal void Failed() => Interlocked.Increment(ref _failed);

    internal void Suppressed() => Interlocked.Increment(ref _suppressed);

    internal void Deferred() => Interlocked.Increment(ref _deferred);

    /// <summary>Totals since start.</summary>
    public (long Due, long Delivered, long Failed, long Suppressed, long Deferred) Totals =>
        (Interlocked.Read(ref _due), Interlocked.Read(ref _delivered), Interlocked.Read(ref _failed), Interlocked.Read(ref _suppressed), Interlocked.Read(ref _deferred));

    /// <summary>Firing lag percentiles in milliseconds over the last 65,536 actions (null before the first).</summary>
    public (long P50, long P99, long Max)? Lag()
    {
        var n = (int)Math.Min(Interlocked.Read(ref _lagCount), _lags.Length);
        if (n == 0)
            return null;
        var copy = _lags[..n];
        Array.Sort(copy);
        return (copy[n / 2], copy[Math.Min(n - 1, (int)Math.Ceiling(n * 0.99) - 1)], copy[n - 1]);
    }
}
