namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>A campaign's funnel: how many steps reached each state, per step.</summary>
public sealed record CampaignSummary(string CampaignId, IReadOnlyList<StepSummary> Steps);
