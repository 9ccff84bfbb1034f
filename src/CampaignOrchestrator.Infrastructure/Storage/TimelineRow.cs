namespace CampaignOrchestrator.Infrastructure.Storage;

// Row shapes the Dapper statements read and write. Column names are snake_case of these.

internal sealed class TimelineRow
{
    public string ProfileId { get; set; } = "";
    public string EventId { get; set; } = "";
    public string Type { get; set; } = "";
    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>The event's properties, read only for a <c>phase_reset</c> (the phase it sets).</summary>
    public string? Properties { get; set; }
}
