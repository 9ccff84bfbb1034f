using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Many rows in one statement on both databases, passed as one JSON parameter: PostgreSQL reads it
/// with <c>json_populate_recordset</c> (typed by the table's own row type), SQLite with
/// <c>jsonb_each</c>. Values: strings, numbers, booleans and timestamps (UTC).
/// </summary>
internal static class BulkRows
{
    /// <summary>Inserts <paramref name="rows"/> (values in <paramref name="columns"/> order) into <paramref name="table"/>;
    /// <paramref name="suffix"/> is appended (an ON CONFLICT clause).</summary>
    public static Task<int> InsertAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, string table, string[] columns,
        IReadOnlyList<object?[]> rows, CancellationToken ct, string suffix = "")
    {
        if (rows.Count == 0)
            return Task.FromResult(0);
        var list = string.Join(", ", columns);
        var sql = dialect.Provider == StorageProvider.Postgres
            ? $"INSERT INTO {table} ({list}) SELECT {list} FROM json_populate_recordset(NULL::{table}, @rows::json) {suffix}"
            : $"INSERT INTO {table} ({list}) SELECT {string.Join(", ", columns.Select((_, i) => $"value->>{i}"))} FROM jsonb_each(CAST(@rows AS TEXT)) WHERE true {suffix}";
        return connection.ExecuteAsync(new CommandDefinition(sql, new { rows = ToJson(dialect, columns, rows) }, tx, cancellationToken: ct));
    }

    /// <summary>Like <see cref="InsertAsync"/>, returning <paramref name="returning"/> of the rows it inserted.</summary>
    public static async Task<List<T>> InsertReturningAsync<T>(DbConnection connection, DbTransaction tx, SqlDialect dialect, string table,
        string[] columns, IReadOnlyList<object?[]> rows, string returning, CancellationToken ct, string suffix = "")
    {
        if (rows.Count == 0)
            return [];
        var list = string.Join(", ", columns);
        var sql = dialect.Provider == StorageProvider.Postgres
            ? $"INSERT INTO {table} ({list}) SELECT {list} FROM json_populate_recordset(NULL::{table}, @rows::json) {suffix} RETURNING {returning}"
            : $"INSERT INTO {table} ({list}) SELECT {string.Join(", ", columns.Select((_, i) => $"value->>{i}"))} FROM jsonb_each(CAST(@rows AS TEXT)) WHERE true {suffix} RETURNING {returning}";
        return (await connection.QueryAsync<T>(new CommandDefinition(sql, new { rows = ToJson(dialect, columns, rows) }, tx, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// The rows as JSON: objects keyed by column (PostgreSQL: text, typed by the table) or arrays (SQLite: UTF-8 bytes, read
    /// as <c>value-&gt;&gt;N</c>; see <see cref="SqliteRows.ToJson{T}"/>). Timestamps as each database compares them:
    /// ISO-8601 UTC (PostgreSQL), SQLite's stored text.
    /// </summary>
    public static object ToJson(SqlDialect dialect, string[] columns, IReadOnlyList<object?[]> rows)
    {
        if (dialect.Provider != StorageProvider.Postgres)
            return SqliteRows.ToJson(rows, static row => row);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(rows.Count * 256);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartArray();
            foreach (var row in rows)
            {
                json.WriteStartObject();
                for (var i = 0; i < columns.Length; i++)
                {
                    json.WritePropertyName(columns[i]);
                    switch (row[i])
                    {
                        case null: json.WriteNullValue(); break;
                        case RawJson raw: json.WriteRawValue(raw.Json, skipInputValidation: true); break;
                        case string s: json.WriteStringValue(s); break;
                        case int n: json.WriteNumberValue(n); break;
                        case long n: json.WriteNumberValue(n); break;
                        case decimal n: json.WriteNumberValue(n); break;
                        case bool b: json.WriteBooleanValue(b); break;
                        case DateTimeOffset t: json.WriteStringValue(t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)); break;
                        default: throw new ArgumentException($"unsupported value type {row[i]!.GetType().Name}");
                    }
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>A value that is JSON text: a json column on PostgreSQL, text on SQLite.</summary>
internal readonly record struct RawJson(string Json);
