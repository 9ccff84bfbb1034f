namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>A step a cancelling statement returned (an exit, a rules change), to be logged.</summary>
internal sealed class CancelledAction
{
    public string ActionId { get; set; } = "";
    public string CampaignId { get; set; } = "";
    public int Step { get; set; }
    public string ProfileId { get; set; } = "";
    public string Kind { get; set; } = "";
    public string RulesVersion { get; set; } = "";
    public int Variant { get; set; }
    public DateTimeOffset DueAt { get; set; }
    public string? Reason { get; set; }
    public string? CauseEventId { get; set; }
    public long Seq { get; set; }

    public ActionLogRow LogRow(DateTimeOffset now) => new()
    {
        ActionId = ActionId, CampaignId = CampaignId, Step = Step, ProfileId = ProfileId, Kind = Kind, Outcome = ActionStatus.Cancelled, At = now,
        DueAt = DueAt, Reason = Reason, CauseEventId = CauseEventId, RulesVersion = RulesVersion, Variant = Variant, ActionSeq = Seq,
    };
}
