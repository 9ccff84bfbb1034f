namespace CampaignOrchestrator.Infrastructure.Rules;

/// <summary>What <c>GET /api/rules</c> shows: the active version and, if the last change was refused, why.</summary>
public sealed record RulesStatus(
    string Version, DateTimeOffset ActivatedAt, string? Path, IReadOnlyList<string> Files, IReadOnlyList<string> Campaigns,
    RulesRefusal? LastRefusal)
{
    /// <summary>The phase model the rules run on (<c>phaseModel</c>), and each stored phase's name in it (retention → care).</summary>
    public string PhaseModel { get; init; } = "five-phase";

    public IReadOnlyDictionary<string, string> PhaseNames { get; init; } = new Dictionary<string, string>();
}
