namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>The planner's answer: a plan, or why there is none.</summary>
public sealed record PlanDecision(InstancePlan? Plan, string? SkipReason);
