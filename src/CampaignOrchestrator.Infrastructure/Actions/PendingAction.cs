namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>An action waiting to fall due, as operators list it.</summary>
public sealed class PendingAction
{
    public long Seq { get; set; }
    public string ActionId { get; set; } = "";
    public string CampaignId { get; set; } = "";
    public int Step { get; set; }
    public string ProfileId { get; set; } = "";
    public string Kind { get; set; } = "";
    public DateTimeOffset DueAt { get; set; }
    public string TriggerId { get; set; } = "";
    public string RulesVersion { get; set; } = "";
}
