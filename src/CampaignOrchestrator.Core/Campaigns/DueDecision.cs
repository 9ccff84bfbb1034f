using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>The verdict on a due action and why.</summary>
public sealed record DueDecision(DueVerdict Verdict, string? Reason = null, DateTimeOffset? Until = null)
{
    public static readonly DueDecision Deliver = new(DueVerdict.Deliver);
}
