namespace CampaignOrchestrator.Infrastructure.Rules;

/// <summary>What <c>GET /api/rules</c> shows: the active version and, if the last change was refused, why.</summary>
public sealed record RulesStatus(
    string Version, DateTimeOffset ActivatedAt, string? Path, IReadOnlyList<string> Files, IReadOnlyList<string> Campaigns,
    RulesRefusal? LastRefusal);
