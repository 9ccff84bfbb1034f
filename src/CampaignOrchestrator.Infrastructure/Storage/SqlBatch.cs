using System.Data.Common;
using System.Text;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Statements that several stages add to, sent as one command: on PostgreSQL a batch's reads take one round trip
/// (<see cref="QueryAsync"/>, results in the order added) and its writes another (<see cref="ExecuteAsync"/>). Each stage
/// names its parameters with a prefix of its own.
/// </summary>
internal sealed class SqlBatch
{
    readonly StringBuilder _text = new();

    public DynamicParameters Args { get; } = new();

    public bool IsEmpty => _text.Length == 0;

    /// <summary>Adds a statement (with its terminating semicolon).</summary>
    public SqlBatch Append(string sql)
    {
        _text.Append(sql);
        return this;
    }

    public SqlBatch Add(string name, object? value)
    {
        Args.Add(name, value);
        return this;
    }

    public override string ToString() => _text.ToString();

    public Task<SqlMapper.GridReader> QueryAsync(DbConnection connection, DbTransaction? tx, CancellationToken ct) =>
        connection.QueryMultipleAsync(new CommandDefinition(_text.ToString(), Args, tx, cancellationToken: ct));

    public Task ExecuteAsync(DbConnection connection, DbTransaction? tx, CancellationToken ct) =>
        IsEmpty ? Task.CompletedTask : connection.ExecuteAsync(new CommandDefinition(_text.ToString(), Args, tx, cancellationToken: ct));
}
