namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>Who an unsubscribe link is for.</summary>
public sealed record UnsubscribeRequest(string ProfileId, string Address, string ActionId);
