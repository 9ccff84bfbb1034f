using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// SQLite's answer to PostgreSQL's <c>unnest</c>: a whole batch of rows goes in as one JSON array
/// parameter (<c>@rows</c>), read back with <c>jsonb_each</c> and <c>value-&gt;&gt;N</c>, so a batch
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

    // One buffer and writer per thread, reused: a batch's rows are encoded synchronously and copied out.
    [ThreadStatic] static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] static Utf8JsonWriter? t_writer;

    /// <summary>
    /// The rows as the JSON array parameter the statements read with <c>jsonb_each(CAST(@rows AS TEXT))</c>: UTF-8 bytes,
    /// bound as a blob and read as text, so the batch is never a .NET string (built, then converted back to UTF-8 to bind).
    /// </summary>
    public static byte[] ToJson<T>(IReadOnlyList<T> rows, Func<T, object?[]> values)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(64 * 1024);
        buffer.ResetWrittenCount();
        var json = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        json.Reset(buffer);
        json.WriteStartArray();
        foreach (var row in rows)
        {
            json.WriteStartArray();
            foreach (var value in values(row))
                Write(json, value);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.Flush();
        var bytes = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > 4 * 1024 * 1024)
            (t_buffer, t_writer) = (null, null); // an unusually large batch: do not keep its buffer
        return bytes;
    }

    static void Write(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null: json.WriteNullValue(); break;
            case string s: json.WriteStringValue(s); break;
            case RawJson raw: json.WriteStringValue(raw.Json); break;
            case int i: json.WriteNumberValue(i); break;
            case long l: json.WriteNumberValue(l); break;
            case decimal d: json.WriteNumberValue(d); break;
            case bool b: json.WriteNumberValue(b ? 1 : 0); break;
            case DateTimeOffset t:
                Span<byte> text = stackalloc byte[32];
                if (!t.UtcDateTime.TryFormat(text, out var written, TimestampFormat, CultureInfo.InvariantCulture))
                    throw new FormatException($"cannot format {t:O}");
                json.WriteStringValue(text[..written]);
                break;
            default: throw new ArgumentException($"unsupported value type {value.GetType().Name}");
        }
    }

    /// <summary>The text Microsoft.Data.Sqlite writes for a UTC <see cref="DateTime"/> parameter.</summary>
    const string TimestampFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";
}
