namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>An outcome-log entry with its action and customer, as the dry run prints it.</summary>
internal sealed class OutcomeEntry
{
    public long Seq { get; set; }
    public string Outcome { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public DateTimeOffset? NextDueAt { get; set; }
    public string? Reason { get; set; }
    public string CampaignId { get; set; } = "";
    public int Step { get; set; }
    public string Kind { get; set; } = "";
    public string Settings { get; set; } = "{}";
    public string? CustomerId { get; set; }
    public string ProfileId { get; set; } = "";
}
