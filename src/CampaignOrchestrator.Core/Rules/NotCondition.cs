namespace CampaignOrchestrator.Core.Rules;

/// <summary>True when the part is not.</summary>
public sealed record NotCondition(Condition Part) : Condition;
