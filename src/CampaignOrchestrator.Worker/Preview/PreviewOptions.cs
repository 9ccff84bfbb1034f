namespace CampaignOrchestrator.Worker.Preview;

/// <summary>Rules previews (section <c>Preview</c>).</summary>
public sealed class PreviewOptions
{
    public const string SectionName = "Preview";

    /// <summary>The most days of stored events a preview replays (each day's events are replayed twice).</summary>
    public int MaxDays { get; set; } = 31;

    /// <summary>How long a preview may run; then it stops and answers what it judged (10 minutes).</summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The share of one core a preview may use, 0.05-1 (0.5: it rests as long as it works, so the worker's own
    /// events go first).</summary>
    public double CpuShare { get; set; } = 0.5;
}
