using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// SQLite's answer to PostgreSQL's <c>unnest</c>: a whole batch of rows goes in as one JSON array
/// parameter (<c>@rows</c>), read back with <c>json_each</c> and <c>value-&gt;&gt;N</c>, so a batch
/// is one statement per table instead of one per row. Values are written as SQLite stores them:
/// timestamps as UTC text <c>yyyy-MM-dd HH:mm:ss.FFFFFFF</c> (what Microsoft.Data.Sqlite writes
/// for a UTC DateTime, so comparisons with other parameters hold), JSON columns as their text.
/// </summary>
internal static class SqliteRows
{
    public static Task ExecuteAsync<T>(DbConnection connection, DbTransaction tx, string sql, IReadOnlyList<T> rows, Func<T, object?[]> values, CancellationToken ct) =>
        rows.Count == 0
            ? Task.CompletedTask
            : connection.ExecuteAsync(new CommandDefinition(sql, new { rows = ToJson(rows, values) }, tx, cancellationToken: ct));

    // Only SQLite reads this text: escape what JSON requires, not what HTML would.
    static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    /// <summary>The rows as the JSON array parameter the statements read with <c>json_each</c>.</summary>
    public static string ToJson<T>(IReadOnlyList<T> rows, Func<T, object?[]> values)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(rows.Count * 256);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartArray();
            foreach (var row in rows)
            {
                json.WriteStartArray();
                foreach (var value in values(row))
                {
                    switch (value)
                    {
                        case null: json.WriteNullValue(); break;
                        case string s: json.WriteStringValue(s); break;
                        case int i: json.WriteNumberValue(i); break;
                        case long l: json.WriteNumberValue(l); break;
                        case decimal d: json.WriteNumberValue(d); break;
                        case bool b: json.WriteNumberValue(b ? 1 : 0); break;
                        case DateTimeOffset t: json.WriteStringValue(Timestamp(t)); break;
                        default: throw new ArgumentException($"unsupported value type {value.GetType().Name}");
                    }
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The text Microsoft.Data.Sqlite writes for a UTC <see cref="DateTime"/> parameter.</summary>
    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
}
