using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Applies the numbered SQL scripts under <c>Storage/Migrations/{Provider}/</c> in order, each in
/// its own transaction, and records them in <c>schema_migrations</c>. Runs at start-up before any
/// consumer; a failing script fails the start. On PostgreSQL an advisory lock keeps two workers
/// starting together from applying the same script twice.
/// </summary>
internal sealed class SchemaMigrator(Database database, ILogger<SchemaMigrator> logger, TimeProvider? time = null)
{
    const long PostgresLockKey = 0x43616d704f726368; // "CampOrch"

    public async Task<int> MigrateAsync(CancellationToken cancellationToken, string? upTo = null)
    {
        // upTo: stop after this version (tests that upgrade a database an earlier release made).
        var scripts = LoadScripts(database.Provider).Where(s => upTo is null || string.CompareOrdinal(s.Version, upTo) <= 0).ToList();
        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.Provider == StorageProvider.Postgres)
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = PostgresLockKey }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)",
                cancellationToken: cancellationToken));
            var applied = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT version FROM schema_migrations", cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
            var count = 0;
            foreach (var (version, sql) in scripts)
            {
                if (applied.Contains(version))
                    continue;
                await using var tx = await connection.BeginTransactionAsync(cancellationToken);
                try
                {
                    await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: cancellationToken));
                    if (CodeSteps.TryGetValue(version, out var step))
                        await step(connection, tx, database.Dialect, cancellationToken);
                    await connection.ExecuteAsync(new CommandDefinition(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @at)",
                        new { version, at = (time ?? TimeProvider.System).GetUtcNow().ToString("O") }, tx, cancellationToken: cancellationToken));
                    await tx.CommitAsync(cancellationToken);
                }
                catch (DbException ex)
                {
                    throw new InvalidOperationException($"Schema migration {version} ({database.Provider}) failed: {ex.Message}", ex);
                }
                Log.MigrationApplied(logger, version, database.Provider.ToString());
                count++;
            }
            return count;
        }
        finally
        {
            if (database.Provider == StorageProvider.Postgres)
                await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@key)", new { key = PostgresLockKey }, cancellationToken: CancellationToken.None));
        }
    }

    /// <summary>What SQL alone cannot do, run after a script in its transaction (SQLite has no SHA-256).</summary>
    static readonly Dictionary<string, Func<DbConnection, DbTransaction, SqlDialect, CancellationToken, Task>> CodeSteps = new(StringComparer.Ordinal)
    {
        ["0014_suppression_hashes"] = HashSuppressionsAsync,
        ["0016_email_lookup"] = FillEmailLookupAsync,
    };

    /// <summary>0016: the lookup by email for the profiles stored before, read in pages of profile ids.</summary>
    static async Task FillEmailLookupAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, CancellationToken ct)
    {
        var after = "";
        while (true)
        {
            var page = (await connection.QueryAsync<(string ProfileId, string Traits)>(new CommandDefinition(
                "SELECT profile_id, CAST(traits AS TEXT) FROM profiles WHERE profile_id > @after ORDER BY profile_id LIMIT 5000",
                new { after }, tx, cancellationToken: ct))).ToList();
            if (page.Count == 0)
                return;
            var rows = page.Select(p => (Hash: System.Text.Json.Nodes.JsonNode.Parse(p.Traits) is System.Text.Json.Nodes.JsonObject o ? ProfileRows.EmailSha256(o) : null, p.ProfileId))
                .Where(r => r.Hash is not null).Select(r => new object?[] { r.Hash, r.ProfileId }).ToList();
            await BulkRows.InsertAsync(connection, tx, dialect, "email_lookup", ["email_sha256", "profile_id"], rows, ct);
            after = page[^1].ProfileId;
        }
    }

    /// <summary>0014: the suppression list an earlier release kept by address is kept by the address's hash.</summary>
    static async Task HashSuppressionsAsync(DbConnection connection, DbTransaction tx, SqlDialect _, CancellationToken ct)
    {
        var rows = (await connection.QueryAsync<(string Address, string Reason, DateTimeOffset At, string? Detail)>(new CommandDefinition(
            "SELECT address, reason, at, detail FROM email_suppressions_0013", transaction: tx, cancellationToken: ct))).ToList();
        foreach (var row in rows.OrderBy(r => r.Reason == "hard-bounce"))   // a hard bounce outranks an unsubscribe of the same address
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO email_suppressions (address_sha256, reason, at, detail) VALUES (@hash, @Reason, @At, @detail) " +
                "ON CONFLICT (address_sha256) DO UPDATE SET reason = excluded.reason, at = excluded.at, detail = excluded.detail",
                new { hash = Core.Journeys.EmailHash.Of(row.Address), row.Reason, row.At, detail = Mask(row.Detail, row.Address) }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("DROP TABLE email_suppressions_0013", transaction: tx, cancellationToken: ct));
    }

    /// <summary><paramref name="text"/> without <paramref name="address"/> in it (a server's reply often names the recipient).</summary>
    internal static string? Mask(string? text, string address) =>
        text?.Replace(address.Trim(), "<recipient>", StringComparison.OrdinalIgnoreCase);

    static IReadOnlyList<(string Version, string Sql)> LoadScripts(StorageProvider provider)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var prefix = $"{assembly.GetName().Name}.Storage.Migrations.{provider}.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return (Version: n[prefix.Length..^4], Sql: reader.ReadToEnd());
            })
            .ToList();
    }
}
