using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// SQLite: read statements kept prepared, for a read served very often (the webshop's banner reads). Microsoft.Data.Sqlite
/// prepares a statement on every new command; a command kept with its connection and run again only binds new values.
/// Each caller rents a connection with its commands (opened on first need, at most as many as read at once) and gives
/// it back; a connection whose read failed is closed rather than returned.
/// </summary>
internal sealed partial class PreparedReads(Database database, IReadOnlyList<string> statements) : IDisposable
{
    readonly ConcurrentBag<Lease> _idle = [];
    volatile bool _disposed;

    [GeneratedRegex(@"@[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Parameter();

    public async Task<List<T>> ReadAsync<T>(int statement, Action<SqliteCommand> bind, Func<SqliteDataReader, T> read, CancellationToken ct)
    {
        var lease = _idle.TryTake(out var idle) ? idle : await OpenAsync(ct);
        var healthy = false;
        try
        {
            var command = lease.Commands[statement];
            bind(command);
            var rows = new List<T>();
            await using (var reader = await command.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct))
                    rows.Add(read(reader));
            healthy = true;
            return rows;
        }
        finally
        {
            if (healthy && !_disposed)
                _idle.Add(lease);
            else
                lease.Dispose();
        }
    }

    async Task<Lease> OpenAsync(CancellationToken ct)
    {
        var connection = (SqliteConnection)await database.OpenAsync(ct);
        var commands = statements.Select(sql =>
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in Parameter().Matches(sql).Select(m => m.Value).Distinct(StringComparer.Ordinal))
                command.Parameters.Add(new SqliteParameter(name, SqliteType.Text) { Value = DBNull.Value });
            command.Prepare();
            return command;
        }).ToArray();
        return new Lease(connection, commands);
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var lease))
            lease.Dispose();
    }

    sealed record Lease(SqliteConnection Connection, SqliteCommand[] Commands) : IDisposable
    {
        public void Dispose()
        {
            foreach (var command in Commands)
                command.Dispose();
            Connection.Dispose();
        }
    }
}
