namespace CampaignOrchestrator.Core.Journeys;

/// <summary>The part of a stored timeline event that phase replay needs, in timeline order; <see cref="ResetTo"/>: the
/// phase a <c>phase_reset</c> sets.</summary>
public sealed record TimelineEntry(string EventId, string Type, DateTimeOffset OccurredAt, Phases.Phase? ResetTo = null);
