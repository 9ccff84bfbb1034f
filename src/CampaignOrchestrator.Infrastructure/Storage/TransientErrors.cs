using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Failures that go away by themselves: the database unreachable, restarting, refusing connections for a while, out of
/// connections or locked; a connection reset or timed out. Not a statement the database rejects, nor a bug. The journey
/// writer retries these; the dispatcher lets an action that met one fall due again.
/// </summary>
internal static class TransientErrors
{
    public static bool IsTransient(Exception ex) => ex switch
    {
        OperationCanceledException => false,
        PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("53", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("57", StringComparison.Ordinal) || pg.SqlState == "55000",
        NpgsqlException => true, // below the SQL level: connection refused, reset, timed out
        SqliteException sqlite => sqlite.SqliteErrorCode is 5 or 6 or 10 or 13 or 14, // BUSY, LOCKED, IOERR, FULL, CANTOPEN
        DbException db => db.IsTransient,
        TimeoutException or IOException or System.Net.Sockets.SocketException => true,
        _ => ex.InnerException is { } inner && IsTransient(inner),
    };
}
