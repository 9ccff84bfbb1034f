using System.Data.Common;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>Writes the rows channels keep (<see cref="StoredRow"/>): one statement per table, operation and shape.</summary>
internal static class StoredRows
{
    public static async Task WriteAsync(DbConnection connection, DbTransaction tx, SqlDialect sql, IReadOnlyList<StoredRow> rows, CancellationToken ct)
    {
        foreach (var group in rows.GroupBy(r => (r.Table, r.IsDelete, Columns: string.Join(",", r.Columns), r.OnConflict)))
        {
            var kept = group.Where(r => r.Key is null).Concat(group.Where(r => r.Key is not null).GroupBy(r => r.Key).Select(k => k.Last()))
                .Select(r => r.Values).ToList();
            var columns = group.First().Columns.ToArray();
            if (!group.Key.IsDelete)
            {
                await BulkRows.InsertAsync(connection, tx, sql, group.Key.Table, columns, kept, ct, group.Key.OnConflict);
                continue;
            }
            var args = new DynamicParameters();
            string statement;
            if (sql.Provider == StorageProvider.Postgres)
            {
                var (from, _) = BulkRows.Unnest(args, "d", columns, kept);
                statement = $"DELETE FROM {group.Key.Table} AS t USING {from} WHERE {string.Join(" AND ", columns.Select(c => $"t.{c} = d.{c}"))}";
            }
            else
            {
                args.Add("rows", BulkRows.ToJson(sql, columns, kept));
                statement = $"DELETE FROM {group.Key.Table} WHERE ({string.Join(", ", columns)}) IN " +
                    $"(SELECT {string.Join(", ", columns.Select((_, i) => $"value->>{i}"))} FROM jsonb_each(CAST(@rows AS TEXT)))";
            }
            await connection.ExecuteAsync(new CommandDefinition(statement, args, tx, cancellationToken: ct));
        }
    }
}
