namespace CampaignOrchestrator.Core.Rules;

/// <summary>An action of a kind (email, banner, offer, retargeting, webhook) with its settings as written.</summary>
public sealed record RuleAction(string Kind, IReadOnlyDictionary<string, string> Settings);
