using System.Data.Common;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// The few places where SQLite and PostgreSQL SQL differ. Everything else in the stores is the
/// same statement on both.
/// </summary>
internal abstract class SqlDialect
{
    public abstract StorageProvider Provider { get; }

    /// <summary>A membership test against an array/list parameter: <c>IN @p</c> or <c>= ANY(@p)</c>.</summary>
    public abstract string In(string column, string parameter);

    /// <summary>The value to pass for a parameter used with <see cref="In"/>.</summary>
    public abstract object List(IReadOnlyCollection<string> values);

    /// <summary>The value to pass for a parameter of numbers used with <see cref="In"/>.</summary>
    public abstract object List(IReadOnlyCollection<long> values);

    /// <summary>
    /// A statement that serializes writers touching the same profiles (several workers on one
    /// database), given a parameter holding the profile ids in ascending ordinal order; it returns
    /// one row with one number. Null where one process writes (SQLite).
    /// </summary>
    public abstract string? LockProfilesSql(string parameter);

    /// <summary>
    /// PostgreSQL: for this transaction, key lookups by index only. Every statement of the journey transaction and of the
    /// dispatcher finds its rows by key; left to itself, the planner picked sequential scans and bitmap scans of tables whose
    /// statistics were young (a new installation, a table that grew since autovacuum last analysed it), and those grew with
    /// the table (measured: docs/benchmarks.md). SQLite: nothing.
    /// </summary>
    public virtual Task KeyLookupsOnlyAsync(DbConnection connection, DbTransaction tx, CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// Several workers may share the database (PostgreSQL): work taken from a shared table is locked for the worker that took it,
    /// and jobs that one worker at a time must run take a lock. SQLite: one worker per file (Database holds its lock file).
    /// </summary>
    public virtual bool SharedByWorkers => false;

    /// <summary>
    /// For the rest of <paramref name="tx"/>, the lock named <paramref name="key"/> if no other worker holds it (PostgreSQL:
    /// <c>pg_try_advisory_xact_lock</c>); true where one worker has the database (SQLite).
    /// </summary>
    public virtual Task<bool> TryLockAsync(DbConnection connection, DbTransaction? tx, long key, CancellationToken ct) => Task.FromResult(true);

    /// <summary>
    /// What a <c>SELECT … LIMIT n</c> that claims rows for one worker ends with: PostgreSQL <c> FOR UPDATE SKIP LOCKED</c> (the
    /// other workers take other rows), SQLite nothing (one writer).
    /// </summary>
    public virtual string SkipLocked => "";

    /// <summary>Whether the text <paramref name="column"/> contains the text <paramref name="parameter"/> (no pattern characters).</summary>
    public abstract string Contains(string column, string parameter);

    /// <summary>
    /// After rows of personal data were deleted (an erasure): makes the deleted bytes unreadable in the files where the store
    /// can, and says what it did. SQLite: deleted content is zeroed as it goes (<c>secure_delete</c>, set on every connection)
    /// and the write-ahead log, which still holds the pages as they were, is checkpointed and truncated. PostgreSQL keeps dead
    /// row versions until VACUUM and its WAL until recycled: docs/reliability.md, "Erasure and the files".
    /// </summary>
    public virtual Task<string> ClearDeletedAsync(DbConnection connection, CancellationToken ct) =>
        Task.FromResult("dead rows are removed by (auto)vacuum; WAL and backups keep them until recycled");

    /// <summary>Opens a connection ready for use.</summary>
    public abstract Task<DbConnection> OpenAsync(string connectionString, CancellationToken cancellationToken);
}
