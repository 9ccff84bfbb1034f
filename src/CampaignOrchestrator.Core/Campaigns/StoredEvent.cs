using CampaignOrchestrator.Core.Events;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>A fresh event of a batch and the profile it landed on (the customer's, when a device was linked).</summary>
public readonly record struct StoredEvent(AcceptedEvent Event, string ProfileId);
