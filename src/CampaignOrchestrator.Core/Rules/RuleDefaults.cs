namespace CampaignOrchestrator.Core.Rules;

/// <summary>Defaults for marketing sends.</summary>
/// <param name="TimeZone">IANA zone used when the customer has no <c>traits.timeZone</c>.</param>
/// <param name="SendWindow">Local hours in which marketing sends may go out; null: any time.</param>
/// <param name="FrequencyCaps">Marketing sends per channel per customer per rolling window.</param>
public sealed record RuleDefaults(TimeZoneInfo TimeZone, SendWindow? SendWindow, IReadOnlyList<FrequencyCap> FrequencyCaps);
