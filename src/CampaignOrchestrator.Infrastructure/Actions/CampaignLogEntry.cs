namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// A page of one campaign's outcome log: what happened to its actions after they were scheduled (cancelled;
/// per firing: delivered, failed, suppressed, deferred, with the due time and how late). The scheduled
/// actions themselves are counted in the funnel (<see cref="CampaignSummary"/>).
/// </summary>
public sealed record CampaignLogEntry(long Seq, string ActionId, int Step, string ProfileId, string Kind, string Outcome, DateTimeOffset At,
    DateTimeOffset? DueAt, DateTimeOffset? NextDueAt, string? Reason, string? CauseEventId, string? RulesVersion, int? Variant, long? LateMs);
