using System.Data.Common;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Opens connections to the configured store and knows its dialect. An SQLite file has one writing
/// worker: this holds <c>&lt;file&gt;.lock</c> for the process's life, so a second worker on the same
/// file fails to start (use PostgreSQL for several workers), and that makes the profile cache safe.
/// </summary>
internal sealed class Database : IDisposable
{
    readonly string _connectionString;
    readonly FileStream? _writerLock;
    readonly SemaphoreSlim? _writeTurns;

    public Database(IOptions<StorageOptions> options)
        : this(options.Value.Provider, options.Value.ConnectionString, options.Value.ProfileCacheSize)
    {
    }

    /// <param name="durable">False for a throwaway SQLite store (a simulation's): commits do not wait for the disk.</param>
    public Database(StorageProvider provider, string connectionString, int profileCacheSize = StorageOptions.DefaultProfileCacheSize, bool durable = true)
    {
        DapperConfiguration.EnsureConfigured();
        Dialect = provider == StorageProvider.Postgres ? new PostgresDialect() : new SqliteDialect(durable);
        _connectionString = provider == StorageProvider.Postgres ? PostgresDialect.Normalize(connectionString) : connectionString;
        if (provider == StorageProvider.Sqlite)
        {
            var file = SqliteDialect.EnsureDirectory(connectionString);
            if (file is not null)
            {
                try
                {
                    _writerLock = new FileStream(file + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
                catch (IOException ex)
                {
                    throw new InvalidOperationException(
                        $"Another worker is using the SQLite file {file} ({ex.Message}). One worker per SQLite file; " +
                        "for several workers set Storage:Provider to Postgres.", ex);
                }
            }
            if (profileCacheSize > 0)
                Cache = new ProfileCache(profileCacheSize);
            _writeTurns = new SemaphoreSlim(1, 1);
            InFlight = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        }
    }

    public SqlDialect Dialect { get; }

    /// <summary>
    /// SQLite: waits for this process's turn to write. SQLite has one writer at a time, and a writer that
    /// finds the file locked waits in SQLite's busy handler, which sleeps in steps of up to 100 ms; the
    /// journey writer, the dispatcher and the scans take turns here instead, without sleeping.
    /// PostgreSQL: no wait (its row locks order writers).
    /// </summary>
    public async ValueTask<WriteTurn> WriteTurnAsync(CancellationToken cancellationToken)
    {
        if (_writeTurns is null)
            return default;
        await _writeTurns.WaitAsync(cancellationToken);
        return new WriteTurn(_writeTurns);
    }

    /// <summary>
    /// SQLite: the actions this process's dispatcher is delivering right now (its claims, kept in memory:
    /// one worker per file). Exits and rule changes leave them alone, as they leave claimed rows alone
    /// on PostgreSQL. Null on PostgreSQL.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, byte>? InFlight { get; }

    /// <summary>
    /// SQL that keeps the in-flight actions out of a statement on <c>scheduled_actions</c>, with its parameter value: SQLite,
    /// where claims live in memory; nothing on PostgreSQL, where a claimed row is not pending.
    /// </summary>
    public (string Sql, string Ids) NotInFlight(string column)
    {
        if (InFlight is null)
            return ("", "[]");
        var ids = InFlight is { IsEmpty: false } f ? System.Text.Json.JsonSerializer.Serialize(f.Keys) : "[]";
        return ($" AND {column} NOT IN (SELECT value FROM json_each(@inflight))", ids);
    }

    /// <summary>A turn to write; disposing it ends the turn.</summary>
    public readonly struct WriteTurn(SemaphoreSlim? turns) : IDisposable
    {
        public void Dispose() => turns?.Release();
    }

    /// <summary>Recently written profiles (SQLite only, where this process is the one writer), or null.</summary>
    public ProfileCache? Cache { get; }

    public void Dispose() => _writerLock?.Dispose();

    public StorageProvider Provider => Dialect.Provider;

    public Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => Dialect.OpenAsync(_connectionString, cancellationToken);
}
