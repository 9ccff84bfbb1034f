namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>
/// An event that ends a customer's instances of a campaign (an <c>exitOn</c> event, or any activity for an inactivity
/// campaign): instances triggered before <paramref name="At"/>, with <paramref name="InstanceKey"/> when it is not null.
/// </summary>
/// <param name="InstanceKey">The exit event's value of the campaign's key (<c>properties.cartId</c>); null: every instance.</param>
/// <param name="EventId">The ending event.</param>
/// <param name="Reason">What the cancelled steps' log says.</param>
public sealed record CampaignExit(string ProfileId, string CampaignId, string? InstanceKey, DateTimeOffset At, string EventId, string Reason);
