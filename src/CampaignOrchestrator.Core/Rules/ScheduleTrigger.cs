namespace CampaignOrchestrator.Core.Rules;

/// <summary>A Quartz cron schedule over the customers matching <paramref name="Segment"/>.</summary>
public sealed record ScheduleTrigger(string Cron, Condition? Segment) : Trigger;
