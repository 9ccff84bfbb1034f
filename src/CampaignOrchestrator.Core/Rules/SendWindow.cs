namespace CampaignOrchestrator.Core.Rules;

/// <summary>Quiet hours are outside [From, To) in the customer's local time.</summary>
public sealed record SendWindow(TimeOnly From, TimeOnly To);
