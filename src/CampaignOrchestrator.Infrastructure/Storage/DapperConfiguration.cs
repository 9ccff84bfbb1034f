using System.Data;
using System.Globalization;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Dapper set-up shared by both providers. Timestamps are written as UTC <see cref="DateTime"/>
/// (Npgsql refuses offsets for timestamptz; SQLite stores sortable text) and read from either
/// DateTime or text. See docs/stack-notes.md §4 for the traps this avoids.
/// </summary>
internal static class DapperConfiguration
{
    static int _configured;

    public static void EnsureConfigured()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1)
            return;
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset));
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset?));
        SqlMapper.AddTypeHandler(new UtcDateTimeOffsetHandler());
    }

    /// <summary>Parses a stored timestamp: a DateTime (Npgsql, UTC) or SQLite text (UTC).</summary>
    public static DateTimeOffset ReadTimestamp(object value) => value switch
    {
        DateTimeOffset dto => dto.ToUniversalTime(),
        DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        _ => throw new DataException($"cannot read a timestamp from {value.GetType().Name}"),
    };

    sealed class UtcDateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) => parameter.Value = value.UtcDateTime;

        public override DateTimeOffset Parse(object value) => ReadTimestamp(value);
    }
}
