namespace CampaignOrchestrator.Core.Rules;

/// <summary>What starts a campaign instance for a customer. Exactly one kind is set.</summary>
public abstract record Trigger;
