namespace CampaignOrchestrator.Core.Rules;

/// <summary>An event of this type is consumed.</summary>
public sealed record EventTrigger(string EventType) : Trigger;
