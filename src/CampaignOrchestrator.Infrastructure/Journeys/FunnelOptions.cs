namespace CampaignOrchestrator.Infrastructure.Journeys;

/// <summary>The funnel's kept counters (section <c>Funnel</c>).</summary>
public sealed class FunnelOptions
{
    public const string SectionName = "Funnel";

    /// <summary>Whether this worker runs the counting job (on PostgreSQL one worker counts at a time, whichever takes the lock).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the job counts the events stored since its last run: the funnel lags the events by about this much.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A segment's funnel judges at most this many customers, and says when that was not all of them.</summary>
    public int SegmentScanLimit { get; set; } = 200_000;
}
