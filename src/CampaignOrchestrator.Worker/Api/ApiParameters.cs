using CampaignOrchestrator.Core.Events;

namespace CampaignOrchestrator.Worker.Api;

/// <summary>
/// The operator API's parameters, checked before anything is read: a bad one is a 400 problem+json that names it and
/// says what is allowed. Ids follow the wire contract (1-128 characters, no control characters); limits are 1-1000.
/// </summary>
internal static class ApiParameters
{
    public const int MaxLimit = 1000;

    /// <summary>A page size: <paramref name="value"/> or <paramref name="default"/>, or a problem when outside 1..<see cref="MaxLimit"/>.</summary>
    public static (int Value, IResult? Problem) Limit(string name, int? value, int @default) =>
        value is null ? (@default, null)
        : value is >= 1 and <= MaxLimit ? (value.Value, null)
        : (0, Bad(name, $"must be between 1 and {MaxLimit} (got {value})"));

    /// <summary>A position to page on from (a seq): 0 or more.</summary>
    public static (long Value, IResult? Problem) After(string name, long? value) =>
        value is null or >= 0 ? (value ?? 0, null) : (0, Bad(name, $"must be 0 or more (got {value})"));

    /// <summary>An id as the wire contract allows it (customerId, anonymousId, campaign id, slot).</summary>
    public static IResult? Id(string name, string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > JourneyEventValidator.MaxIdLength)
            return Bad(name, $"must be 1-{JourneyEventValidator.MaxIdLength} characters (got {value?.Length ?? 0})");
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsControl(value[i]))
                return Bad(name, "must not hold control characters");
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                i++;
            else if (char.IsSurrogate(value[i]))
                return Bad(name, "must be valid Unicode text");
        }
        return null;
    }

    /// <summary>The longest period a results query covers.</summary>
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromDays(366);

    /// <summary>
    /// A period <c>from</c>..<c>to</c> (ISO 8601 dates or timestamps; a date is midnight UTC): <c>to</c> defaults to now,
    /// <c>from</c> to 30 days before <c>to</c>; from before to, at most <see cref="MaxPeriod"/>.
    /// </summary>
    public static (DateTimeOffset From, DateTimeOffset To, IResult? Problem) Period(string? from, string? to, DateTimeOffset now)
    {
        static bool TryParse(string text, out DateTimeOffset value) =>
            DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out value);
        var end = now;
        if (to is not null && !TryParse(to, out end))
            return (default, default, Bad("to", $"must be a date or timestamp such as 2026-11-30 or 2026-11-30T12:00:00Z (got '{Shorten(to)}')"));
        var start = end - TimeSpan.FromDays(30);
        if (from is not null && !TryParse(from, out start))
            return (default, default, Bad("from", $"must be a date or timestamp such as 2026-11-01 or 2026-11-01T00:00:00Z (got '{Shorten(from)}')"));
        if (start >= end)
            return (default, default, Bad("from", $"must be before 'to' ({start:O} is not before {end:O})"));
        if (end - start > MaxPeriod)
            return (default, default, Bad("from", $"the period must be at most {MaxPeriod.TotalDays:N0} days (got {(end - start).TotalDays:N0})"));
        return (start, end, null);
    }

    /// <summary>One of <paramref name="allowed"/>, or null.</summary>
    public static IResult? OneOf(string name, string? value, IReadOnlyCollection<string> allowed) =>
        value is null || allowed.Contains(value) ? null : Bad(name, $"must be one of {string.Join(", ", allowed)} (got '{Shorten(value)}')");

    static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    static IResult Bad(string name, string what) =>
        Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: $"Invalid parameter '{name}'", detail: $"'{name}' {what}",
            extensions: new Dictionary<string, object?> { ["parameter"] = name });
}
