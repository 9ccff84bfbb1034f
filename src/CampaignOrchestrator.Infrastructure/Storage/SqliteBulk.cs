using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Runs one prepared SQLite statement per row, binding positional values (<c>$1..$n</c>). Measured
/// about twice as fast as Dapper's per-row execution for the journey batch (docs/benchmarks.md).
/// </summary>
internal static class SqliteBulk
{
    public static async Task ExecuteAsync<T>(DbConnection connection, DbTransaction tx, string sql, IReadOnlyList<T> rows, Func<T, object?[]> values, CancellationToken ct)
    {
        if (rows.Count == 0)
            return;
        await using var command = (SqliteCommand)connection.CreateCommand();
        command.Transaction = (SqliteTransaction)tx;
        command.CommandText = sql;
        var first = values(rows[0]);
        for (var i = 0; i < first.Length; i++)
            command.Parameters.Add(new SqliteParameter("$" + (i + 1), null));
        command.Prepare();
        foreach (var row in rows)
        {
            var v = ReferenceEquals(row, rows[0]) ? first : values(row);
            for (var i = 0; i < v.Length; i++)
                command.Parameters[i].Value = v[i] switch
                {
                    null => DBNull.Value,
                    DateTimeOffset t => t.UtcDateTime,
                    var other => other,
                };
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}
