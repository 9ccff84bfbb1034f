using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>One step of a started instance, with when it falls due and which variant it takes.</summary>
public sealed record PlannedAction(string ActionId, int Step, DateTimeOffset DueAt, int Variant, RuleAction Action);
