using Dapper;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>The operator audit log (<c>audit_log</c>): every action an operator takes through the API is recorded here.</summary>
internal sealed class AuditLog(Database database, TimeProvider time)
{
    public async Task RecordAsync(string keyName, string action, string? target, string? detail, CancellationToken ct)
    {
        using var turn = await database.WriteTurnAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await AppendAsync(connection, null, time.GetUtcNow(), keyName, action, target, detail, ct);
    }

    /// <summary>Records an entry in <paramref name="tx"/>: with the change it records, so neither is kept without the other.</summary>
    public static Task AppendAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx, DateTimeOffset at, string keyName,
        string action, string? target, string? detail, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO audit_log (at, key_name, action, target, detail) VALUES (@at, @keyName, @action, @target, @detail)",
            new { at, keyName, action, target, detail }, tx, cancellationToken: ct));

    /// <summary>Entries after <paramref name="afterSeq"/>, oldest first (page on with the last seq).</summary>
    public async Task<IReadOnlyList<AuditEntry>> ReadAsync(long afterSeq, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<AuditEntry>(new CommandDefinition(
            "SELECT seq, at, key_name, action, target, detail FROM audit_log WHERE seq > @afterSeq ORDER BY seq LIMIT @limit",
            new { afterSeq, limit }, cancellationToken: ct))).ToList();
    }
}
