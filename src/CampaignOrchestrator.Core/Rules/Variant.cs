namespace CampaignOrchestrator.Core.Rules;

/// <summary>One variant of a step's action and its weight.</summary>
public sealed record Variant(int Weight, RuleAction Action);
