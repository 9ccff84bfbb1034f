namespace CampaignOrchestrator.Core.Rules;

/// <summary>
/// Wall-clock times in a customer's IANA time zone, DST-correct: a local time that a spring-forward
/// skips is taken at the end of the gap (02:30 on the night clocks go 02:00 → 03:00 means 03:00), and
/// one that a fall-back repeats at its first occurrence.
/// </summary>
public static class LocalTimes
{
    /// <summary>The first instant at or after <paramref name="from"/> whose local time in <paramref name="zone"/> is <paramref name="at"/>.</summary>
    public static DateTimeOffset NextAt(DateTimeOffset from, TimeOnly at, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(from, zone).DateTime;
        for (var day = DateOnly.FromDateTime(local); ; day = day.AddDays(1))
        {
            var wall = day.ToDateTime(at);
            var candidate = ToInstant(wall, zone);
            if (candidate >= from)
                return candidate;
            // A repeated hour: its second occurrence may still be ahead.
            if (zone.IsAmbiguousTime(wall) && new DateTimeOffset(wall, zone.GetAmbiguousTimeOffsets(wall).Min()).ToUniversalTime() is var second && second >= from)
                return second;
        }
    }

    /// <summary>
    /// <paramref name="at"/> itself when its local time lies in the window [From, To) (a window may
    /// run past midnight, e.g. 20:00-02:00), else the window's next opening.
    /// </summary>
    public static DateTimeOffset InWindow(DateTimeOffset at, SendWindow window, TimeZoneInfo zone)
    {
        var time = TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);
        var inside = window.From < window.To
            ? time >= window.From && time < window.To
            : time >= window.From || time < window.To;
        return inside ? at : NextAt(at, window.From, zone);
    }

    /// <summary>The instant of a local wall-clock time in <paramref name="zone"/>.</summary>
    public static DateTimeOffset ToInstant(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
            local = new DateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, 0).AddMinutes(1);
        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }
}
