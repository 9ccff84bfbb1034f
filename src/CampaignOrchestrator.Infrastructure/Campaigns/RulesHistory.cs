using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>The rules versions the workers took (<c>rules_versions</c>, written by <see cref="RulesWatcher"/>), newest first.</summary>
internal sealed class RulesHistory(Database database)
{
    /// <summary>The versions, newest first: when each was first taken, its files and its campaigns' fingerprints.</summary>
    public async Task<IReadOnlyList<RulesVersionView>> ListAsync(int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<Row>(new CommandDefinition(
                "SELECT version, activated_at, files, campaigns, NULL AS sources FROM rules_versions ORDER BY activated_at DESC, version LIMIT @limit",
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

    /// <summary>The version in force at <paramref name="at"/>: the last one first taken at or before it (with its files), or null.</summary>
    public async Task<RulesVersionView?> InForceAtAsync(DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(
            "SELECT version, activated_at, files, campaigns, sources FROM rules_versions WHERE activated_at <= @at ORDER BY activated_at DESC, version LIMIT 1",
            new { at }, cancellationToken: ct)))?.ToView();
    }

    sealed class Row
    {
        public string Version { get; set; } = "";
        public DateTimeOffset ActivatedAt { get; set; }
        public string Files { get; set; } = "[]";
        public string Campaigns { get; set; } = "{}";
        public string? Sources { get; set; }

        public RulesVersionView ToView() => new(Version, ActivatedAt, JsonSerializer.Deserialize<string[]>(Files) ?? [],
            JsonNode.Parse(Campaigns) as JsonObject ?? [], Sources is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(Sources));
    }
}

/// <summary>A rules version: first taken at <paramref name="ActivatedAt"/>; <paramref name="Campaigns"/> maps each campaign to its fingerprint.</summary>
public sealed record RulesVersionView(string Version, DateTimeOffset ActivatedAt, IReadOnlyList<string> Files, JsonObject Campaigns,
    IReadOnlyDictionary<string, string>? Sources);
