using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>
/// The rules versions the workers took (<c>rules_versions</c>: text and fingerprints) and every time one went in force
/// (<c>rules_activations</c>: a start with other rules, a file change, an upload, a rollback), both written by
/// <see cref="RulesWatcher"/>.
/// </summary>
internal sealed class RulesHistory(Database database)
{
    /// <summary>The activations, newest first: which version went in force, when and how (<c>by</c>), its files and its campaigns' fingerprints.</summary>
    public async Task<IReadOnlyList<RulesVersionView>> ListAsync(int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<Row>(new CommandDefinition(
                "SELECT a.version, a.activated_at, a.by, v.files, v.campaigns, NULL AS sources FROM rules_activations a " +
                "JOIN rules_versions v ON v.version = a.version ORDER BY a.seq DESC LIMIT @limit",
                new { limit }, cancellationToken: ct)))
            .Select(r => r.ToView()).ToList();
    }

    /// <summary>One version with its files' text (null for a version an earlier release recorded), or null if unknown.</summary>
    public async Task<RulesVersionView?> GetAsync(string version, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "SELECT version, activated_at, files, campaigns, sources FROM rules_versions WHERE version = @version",
            new { version }, cancellationToken: ct)))?.ToView();
    }

    /// <summary>The version in force at <paramref name="at"/>: the last one put in force at or before it (with its files), or null.</summary>
    public async Task<RulesVersionView?> InForceAtAsync(DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(
            "SELECT a.version, a.activated_at, a.by, v.files, v.campaigns, v.sources FROM rules_activations a JOIN rules_versions v ON v.version = a.version " +
            "WHERE a.activated_at <= @at ORDER BY a.activated_at DESC, a.seq DESC LIMIT 1",
            new { at }, cancellationToken: ct)))?.ToView();
    }

    sealed class Row
    {
        public string Version { get; set; } = "";
        public DateTimeOffset ActivatedAt { get; set; }
        public string Files { get; set; } = "[]";
        public string Campaigns { get; set; } = "{}";
        public string? Sources { get; set; }
        public string? By { get; set; }

        public RulesVersionView ToView() => new(Version, ActivatedAt, JsonSerializer.Deserialize<string[]>(Files) ?? [],
            JsonNode.Parse(Campaigns) as JsonObject ?? [], Sources is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(Sources)) { By = By };
    }
}

/// <summary>A rules version, put in force at <paramref name="ActivatedAt"/> (one version: first taken then); <paramref name="Campaigns"/>
/// maps each campaign to its fingerprint.</summary>
public sealed record RulesVersionView(string Version, DateTimeOffset ActivatedAt, IReadOnlyList<string> Files, JsonObject Campaigns,
    IReadOnlyDictionary<string, string>? Sources)
{
    /// <summary>How it went in force: <c>start</c>, <c>file</c>, <c>upload:&lt;key&gt;</c>, <c>rollback:&lt;key&gt;</c>.</summary>
    public string? By { get; init; }
}
