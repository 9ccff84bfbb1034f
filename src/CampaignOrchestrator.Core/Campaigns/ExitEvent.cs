namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>A stored event of a type some campaign exits on, read for a late trigger (one that happened before it).</summary>
public sealed record ExitEvent(string ProfileId, string Type, DateTimeOffset OccurredAt, string EventId, string? PropertiesJson, string? ContextJson);
