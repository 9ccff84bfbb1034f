namespace CampaignOrchestrator.Core.Rules;

/// <summary>A condition tree over a customer and the trigger event.</summary>
public abstract record Condition;
