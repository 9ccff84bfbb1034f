namespace CampaignOrchestrator.Core.Journeys;

/// <summary>The part of a stored timeline event that phase replay needs, in timeline order.</summary>
public sealed record TimelineEntry(string EventId, string Type, DateTimeOffset OccurredAt);
