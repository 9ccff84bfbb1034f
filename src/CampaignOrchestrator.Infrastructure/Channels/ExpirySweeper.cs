using System.Data.Common;
using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Ends what a channel kept once its time ran out (banners, audience memberships): every <c>interval</c> it sweeps in
/// batches of <see cref="BatchSize"/> until a batch comes back short; a failed round is logged and tried again next time.
/// A batch is one transaction: what ran out is removed, and the events that announce it (and the rows they need) are
/// written in the same transaction.
/// </summary>
internal abstract class ExpirySweeper(Database database, OutboxSignal signal, TimeProvider time, TimeSpan interval, ILogger logger) : BackgroundService
{
    protected const int BatchSize = 1000;

    protected TimeProvider Time { get; } = time;

    protected Database Database { get; } = database;

    /// <summary>Removes what ran out by <paramref name="now"/> (at most <see cref="BatchSize"/>, <c>SKIP LOCKED</c> on PostgreSQL
    /// so workers share the work); returns how many, and the events and rows that announce them.</summary>
    protected abstract Task<(int Ended, IReadOnlyList<ICampaignActionEvent> Events, IReadOnlyList<StoredRow> Rows)> EndExpiredAsync(
        DbConnection connection, DbTransaction tx, DateTimeOffset now, CancellationToken ct);

    /// <summary>Ends one batch; returns how many it ended.</summary>
    internal async Task<int> SweepAsync(CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        using var turn = await Database.WriteTurnAsync(ct);
        await using var connection = await Database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var (ended, events, rows) = await EndExpiredAsync(connection, tx, now, ct);
        if (ended == 0)
            return 0;
        await Outbox.AppendAsync(connection, tx, Database.Dialect, events, ct);
        await StoredRows.WriteAsync(connection, tx, Database.Dialect, rows, ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        return ended;
    }

    /// <summary><c> FOR UPDATE SKIP LOCKED</c> on PostgreSQL, where several workers sweep; nothing on SQLite.</summary>
    protected string SkipLocked => Database.Dialect.SkipLocked;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, Time);
        try
        {
            do
            {
                try
                {
                    while (await SweepAsync(stoppingToken) == BatchSize) { }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.SweepFailed(logger, ex, GetType().Name, interval);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The device's id of a profile whose customer is not known (the contract's <c>anonymousId</c>).</summary>
    protected static string? AnonymousIdOf(string profileId, string? customerId) =>
        customerId is null && profileId.StartsWith("a:", StringComparison.Ordinal) ? profileId[2..] : null;

    /// <summary>The customer id and current phase of each profile (for the contract's common fields of an event).</summary>
    protected static Task<Dictionary<string, (string ProfileId, string? CustomerId, string? Phase)>> CustomersAsync(DbConnection connection, DbTransaction tx,
        SqlDialect sql, IEnumerable<string> profileIds, CancellationToken ct) =>
        JourneyReads.CustomersAsync(connection, tx, sql, profileIds, ct);
}
