namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>A scheduled action as the dry run prints it when it appears.</summary>
internal sealed class ScheduledStep
{
    public string ActionId { get; set; } = "";
    public string CampaignId { get; set; } = "";
    public int Step { get; set; }
    public string Kind { get; set; } = "";
    public string Settings { get; set; } = "{}";
    public DateTimeOffset PlannedAt { get; set; }
    public string Cause { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
