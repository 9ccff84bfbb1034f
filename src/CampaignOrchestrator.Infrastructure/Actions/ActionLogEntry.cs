namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>One entry of an action's life.</summary>
public sealed record ActionLogEntry(string Outcome, DateTimeOffset At, DateTimeOffset? DueAt, string? Reason, string? CauseEventId, long? LateMs);
