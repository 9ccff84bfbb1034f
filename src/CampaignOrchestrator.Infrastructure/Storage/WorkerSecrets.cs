using System.Collections.Concurrent;
using System.Security.Cryptography;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Secrets this installation makes for itself (offer codes, unsubscribe links): 32 random bytes created at first use and
/// kept in the database, so every worker on it and every restart signs alike. Not configuration: nothing to set or leak.
/// </summary>
internal static class WorkerSecrets
{
    static readonly ConcurrentDictionary<(Database, string), byte[]> Known = new();

    public static async Task<byte[]> GetAsync(Database database, string name, TimeProvider time, CancellationToken ct)
    {
        if (Known.TryGetValue((database, name), out var known))
            return known;
        await using var connection = await database.OpenAsync(ct);
        var value = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT value FROM worker_secrets WHERE name = @name", new { name }, cancellationToken: ct));
        if (value is null)
        {
            using (await database.WriteTurnAsync(ct))
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO worker_secrets (name, value, created_at) VALUES (@name, @value, @now) ON CONFLICT (name) DO NOTHING",
                    new { name, value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), now = time.GetUtcNow() }, cancellationToken: ct));
            value = await connection.QuerySingleAsync<string>(new CommandDefinition(
                "SELECT value FROM worker_secrets WHERE name = @name", new { name }, cancellationToken: ct));
        }
        return Known[(database, name)] = Convert.FromBase64String(value);
    }
}
