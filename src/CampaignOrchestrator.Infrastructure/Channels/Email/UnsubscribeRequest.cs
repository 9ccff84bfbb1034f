namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>Who an unsubscribe link is for: the profile, the address by its hash, the mail's action and the mail's locale.</summary>
public sealed record UnsubscribeRequest(string ProfileId, string AddressSha256, string ActionId, string? Locale);
