using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Infrastructure.Rules;

/// <summary>A rule set as loaded from disk, with the version its files make up.</summary>
/// <param name="Version">The first 12 hex digits of a SHA-256 over the files' names and contents:
/// the same files give the same version, any change a new one.</param>
public sealed record LoadedRules(RuleSet Rules, string Version, IReadOnlyList<string> Files);
