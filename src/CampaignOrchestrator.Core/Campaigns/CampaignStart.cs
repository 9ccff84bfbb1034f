using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>A trigger of <paramref name="Campaign"/> for one customer profile: what may start an instance.</summary>
public readonly record struct CampaignStart(Campaign Campaign, string ProfileId, TriggerOccurrence Trigger);
