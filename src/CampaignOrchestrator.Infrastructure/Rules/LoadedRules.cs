using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Infrastructure.Rules;

/// <summary>A rule set as loaded from disk, with the version its files make up.</summary>
/// <param name="Version">The first 12 hex digits of a SHA-256 over the files' names and contents:
/// the same files give the same version, any change a new one.</param>
public sealed record LoadedRules(RuleSet Rules, string Version, IReadOnlyList<string> Files)
{
    /// <summary>Each file's text by its name relative to the rules folder (what a version records).</summary>
    public IReadOnlyDictionary<string, string> Sources { get; init; } = new Dictionary<string, string>();
}

/// <summary>One rules file: its name relative to the rules folder, its YAML, and how messages name it (default: the name).</summary>
public sealed record RulesSource(string Name, string Yaml, string? Shown = null);
