namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>A due action a dispatcher claimed: what judging and delivering it needs.</summary>
internal sealed class ClaimedAction
{
    public long Seq { get; set; }
    public string ActionId { get; set; } = "";
    public string CampaignId { get; set; } = "";
    public int Step { get; set; }
    public string ProfileId { get; set; } = "";
    public string? InstanceKey { get; set; }
    public string TriggerId { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Channel { get; set; } = "";
    public string Settings { get; set; } = "{}";
    public int Variant { get; set; }
    public bool Holdout { get; set; }
    public bool Transactional { get; set; }
    public int Priority { get; set; }
    public string RulesVersion { get; set; } = "";
    public DateTimeOffset DueAt { get; set; }
    public string? TraceParent { get; set; }
}
