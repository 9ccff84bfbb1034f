using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>A started campaign instance: its steps, or (holdout) the steps it would have had.</summary>
public sealed record InstancePlan(Campaign Campaign, string InstanceId, string? InstanceKey, bool Holdout, IReadOnlyList<PlannedAction> Actions);
