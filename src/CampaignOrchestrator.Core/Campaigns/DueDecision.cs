namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>The verdict on a due action and why.</summary>
public sealed record DueDecision(DueVerdict Verdict, string? Reason = null, DateTimeOffset? Until = null)
{
    public static readonly DueDecision Deliver = new(DueVerdict.Deliver);
}
