using System.Data.Common;
using Dapper;
using Npgsql;

namespace CampaignOrchestrator.Infrastructure.Storage;

internal sealed class PostgresDialect : SqlDialect
{
    public override StorageProvider Provider => StorageProvider.Postgres;

    public override string In(string column, string parameter) => $"{column} = ANY({parameter})";

    public override string SkipLocked => " FOR UPDATE SKIP LOCKED";

    public override bool SharedByWorkers => true;

    public override Task<bool> TryLockAsync(DbConnection connection, DbTransaction? tx, long key, CancellationToken ct) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_xact_lock(@key)", new { key }, tx, cancellationToken: ct));

    public override object List(IReadOnlyCollection<string> values) => values as string[] ?? values.ToArray();

    public override object List(IReadOnlyCollection<long> values) => values as long[] ?? values.ToArray();

    public override Task KeyLookupsOnlyAsync(DbConnection connection, DbTransaction tx, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off", transaction: tx, cancellationToken: ct));

    // Transaction-scoped advisory locks, taken in one sorted order so two workers never deadlock.
    // They also cover profiles that do not exist yet, which row locks cannot.
    public override string? LockProfilesSql(string parameter) =>
        $"SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtextextended(id, 0)) FROM unnest({parameter}::text[]) WITH ORDINALITY AS t(id, n) ORDER BY n) AS locked;";

    public override string Contains(string column, string parameter) => $"strpos({column}, {parameter}) > 0";

    public override async Task<DbConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>
    /// Adds what the operator did not set: Timezone=UTC; no session reset when a connection returns to
    /// the pool (the store changes no session state; the dispatcher's plan settings are SET LOCAL); and
    /// automatic preparation of repeated statements with custom plans only. Generic plans are off: after
    /// a few runs PostgreSQL gave the prepared <c>= ANY(array)</c> statements generic plans that made
    /// write batches 4 times slower; prepared with custom plans, statements are parsed once per connection
    /// and still planned for their parameters (docs/benchmarks.md).
    /// </summary>
    public static string Normalize(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.Timezone))
            builder.Timezone = "UTC";
        if (!HasKey(connectionString, "No Reset On Close", "NoResetOnClose"))
            builder.NoResetOnClose = true;
        if (!HasKey(connectionString, "Max Auto Prepare", "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
            if (builder.Options?.Contains("plan_cache_mode", StringComparison.Ordinal) != true)
                builder.Options = ((builder.Options ?? "") + " -c plan_cache_mode=force_custom_plan").Trim();
        }
        return builder.ConnectionString;
    }

    static bool HasKey(string connectionString, params string[] names)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return names.Any(given.ContainsKey);
    }
}
