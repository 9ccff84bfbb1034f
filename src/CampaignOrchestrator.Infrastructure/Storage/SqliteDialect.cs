using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace CampaignOrchestrator.Infrastructure.Storage;

internal sealed class SqliteDialect(bool durable = true) : SqlDialect
{
    // A throwaway store (a simulation's, a preview's) need not survive a crash: no wait for the disk on each commit.
    readonly string _synchronous = durable ? "FULL" : "OFF";

    public override StorageProvider Provider => StorageProvider.Sqlite;

    // One JSON array parameter instead of one parameter per value: a constant statement, and no
    // per-value binding (which dominated the batch profile).
    public override string In(string column, string parameter) => $"{column} IN (SELECT value FROM json_each({parameter}))";

    public override object List(IReadOnlyCollection<string> values) => System.Text.Json.JsonSerializer.Serialize(values);

    public override object List(IReadOnlyCollection<long> values) => System.Text.Json.JsonSerializer.Serialize(values);

    // One worker writes an SQLite file (Database holds its lock file), and writers queue on the file lock.
    public override string? LockProfilesSql(string parameter) => null;

    public override string Contains(string column, string parameter) => $"instr({column}, {parameter}) > 0";

    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> Configured = new();
    static readonly object Marker = new();

    public override async Task<DbConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        // Microsoft.Data.Sqlite pools native connections: configure each one once. (Run on every open,
        // the cache_size and mmap_size pragmas also reset the page cache: measured, docs/benchmarks.md.)
        // A small page cache per connection and no memory map: the operating system caches the file
        // anyway, and with several pooled connections (journey writer, dispatcher, API, scans) and a
        // large database, 64 MB caches and a 256 MB map made the worker's memory grow to 380-460 MB
        // for no measurable speed (docs/benchmarks.md, issue 3). The WAL is checkpointed every 50,000 pages
        // (about 200 MB): a page written many times between two checkpoints is copied into the file once
        // (store alone 8 % faster than every 20,000 pages, end to end 1-4 %; docs/benchmarks.md, fifth session).
        if (connection.Handle is { } handle && !Configured.TryGetValue(handle, out _))
        {
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + _synchronous + "; PRAGMA busy_timeout=10000; PRAGMA cache_size=-4096; " +
                "PRAGMA mmap_size=0; PRAGMA wal_autocheckpoint=50000; PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            Configured.AddOrUpdate(handle, Marker);
        }
        return connection;
    }

    // Erased rows are zeroed as they are deleted (secure_delete, every connection); the WAL still holds the pages as they were
    // before: checkpointed into the file and truncated. A reader in the middle of a long read can hold the checkpoint back:
    // it is tried for up to ten seconds.
    public override async Task<string> ClearDeletedAsync(DbConnection connection, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            await using var reader = await checkpoint.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct) && reader.GetInt64(0) == 0)
                return "deleted rows zeroed; write-ahead log checkpointed and truncated";
            await Task.Delay(500, ct);
        }
        return "deleted rows zeroed; the write-ahead log could not be truncated (a long read held it): it is overwritten as the store writes";
    }

    /// <summary>Creates the folder of a file database, so the default works on a fresh checkout.</summary>
    /// <returns>The database file's full path, or null for an in-memory or URI database.</returns>
    public static string? EnsureDirectory(string connectionString)
    {
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (string.IsNullOrEmpty(dataSource) || dataSource == ":memory:" || dataSource.StartsWith("file:", StringComparison.Ordinal))
            return null;
        var path = Path.GetFullPath(dataSource);
        var folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder))
            Directory.CreateDirectory(folder);
        return path;
    }
}
