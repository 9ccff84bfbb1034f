using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Many rows in one statement on both databases. PostgreSQL gets one typed array per column and reads
/// them with <c>unnest</c> (binary values, no JSON to parse: PostgreSQL's CPU an event with the default rules
/// 82-88 µs instead of 88 with <c>json_populate_recordset</c>; docs/benchmarks.md, fifth session); SQLite gets one JSON parameter
/// and reads it with <c>jsonb_each</c>. Values: strings, numbers, booleans, timestamps (UTC) and <see cref="RawJson"/>.
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
        var (sql, args) = Insert(dialect, table, columns, rows, suffix);
        return connection.ExecuteAsync(new CommandDefinition(sql, args, tx, cancellationToken: ct));
    }

    /// <summary>Like <see cref="InsertAsync"/>, returning <paramref name="returning"/> of the rows it inserted.</summary>
    public static async Task<List<T>> InsertReturningAsync<T>(DbConnection connection, DbTransaction tx, SqlDialect dialect, string table,
        string[] columns, IReadOnlyList<object?[]> rows, string returning, CancellationToken ct, string suffix = "")
    {
        if (rows.Count == 0)
            return [];
        var (sql, args) = Insert(dialect, table, columns, rows, suffix);
        return (await connection.QueryAsync<T>(new CommandDefinition(sql + " RETURNING " + returning, args, tx, cancellationToken: ct))).ToList();
    }

    static (string Sql, DynamicParameters Args) Insert(SqlDialect dialect, string table, string[] columns, IReadOnlyList<object?[]> rows, string suffix)
    {
        var list = string.Join(", ", columns);
        var args = new DynamicParameters();
        if (dialect.Provider == StorageProvider.Postgres)
        {
            var (from, select) = Unnest(args, "b", columns, rows);
            return ($"INSERT INTO {table} ({list}) SELECT {select} FROM {from} {suffix}", args);
        }
        args.Add("rows", ToJson(dialect, columns, rows));
        return ($"INSERT INTO {table} ({list}) SELECT {string.Join(", ", columns.Select((_, i) => $"value->>{i}"))} FROM jsonb_each(CAST(@rows AS TEXT)) WHERE true {suffix}", args);
    }

    /// <summary>
    /// PostgreSQL: <paramref name="rows"/> as one typed array parameter per column (<c>@{alias}0</c>, ...), for
    /// <c>FROM {From}</c> and <c>SELECT {Select}</c> (the columns under their own names, as the table types them).
    /// Column types come from <see cref="PostgresColumnTypes"/>.
    /// </summary>
    public static (string From, string Select) Unnest(DynamicParameters args, string alias, string[] columns, IReadOnlyList<object?[]> rows)
    {
        var from = new System.Text.StringBuilder("unnest(");
        var select = new System.Text.StringBuilder();
        for (var i = 0; i < columns.Length; i++)
        {
            var type = PostgresColumnTypes.Of(columns[i]);
            var json = type == "json";
            args.Add(alias + i, Column(json ? "text" : type, rows, i));
            from.Append(i == 0 ? "@" : ", @").Append(alias).Append(i).Append("::").Append(json ? "text" : type).Append("[]");
            select.Append(i == 0 ? "" : ", ").Append(alias).Append('.').Append(columns[i]).Append(json ? "::json" : "");
        }
        from.Append(") AS ").Append(alias).Append(" (").Append(string.Join(", ", columns)).Append(')');
        return (from.ToString(), select.ToString());
    }

    static Array Column(string type, IReadOnlyList<object?[]> rows, int i)
    {
        switch (type)
        {
            case "text":
                var texts = new string?[rows.Count];
                for (var r = 0; r < rows.Count; r++)
                    texts[r] = rows[r][i] switch { null => null, string s => s, RawJson j => j.Json, var v => throw Unsupported(v, type) };
                return texts;
            case "integer":
                return rows.Select(r => r[i] switch { null => (int?)null, int n => n, var v => throw Unsupported(v, type) }).ToArray();
            case "bigint":
                return rows.Select(r => r[i] switch { null => (long?)null, long n => n, int n => n, var v => throw Unsupported(v, type) }).ToArray();
            case "numeric":
                return rows.Select(r => r[i] switch { null => (decimal?)null, decimal n => n, int n => n, long n => n, var v => throw Unsupported(v, type) }).ToArray();
            case "boolean":
                return rows.Select(r => r[i] switch { null => (bool?)null, bool b => b, var v => throw Unsupported(v, type) }).ToArray();
            case "timestamptz":
                return rows.Select(r => r[i] switch { null => (DateTime?)null, DateTimeOffset t => t.UtcDateTime, var v => throw Unsupported(v, type) }).ToArray();
            default:
                throw new ArgumentException($"no array type for column type {type}");
        }
    }

    static ArgumentException Unsupported(object value, string type) => new($"a {value.GetType().Name} value for a {type} column");

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
