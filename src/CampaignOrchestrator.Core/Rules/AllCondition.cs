namespace CampaignOrchestrator.Core.Rules;

/// <summary>True when every part is.</summary>
public sealed record AllCondition(IReadOnlyList<Condition> Parts) : Condition;
