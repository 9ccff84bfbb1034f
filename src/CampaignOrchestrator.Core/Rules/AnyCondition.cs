namespace CampaignOrchestrator.Core.Rules;

/// <summary>True when any part is.</summary>
public sealed record AnyCondition(IReadOnlyList<Condition> Parts) : Condition;
