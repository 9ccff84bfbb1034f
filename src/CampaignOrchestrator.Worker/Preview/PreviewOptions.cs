namespace CampaignOrchestrator.Worker.Preview;

/// <summary>Rules previews (section <c>Preview</c>).</summary>
public sealed class PreviewOptions
{
    public const string SectionName = "Preview";

    /// <summary>The most days of stored events a preview replays (each day's events are replayed twice).</summary>
    public int MaxDays { get; set; } = 31;
}
