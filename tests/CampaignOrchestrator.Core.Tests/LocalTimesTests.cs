using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Tests;

public sealed class LocalTimesTests
{
    static readonly TimeZoneInfo Amsterdam = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");
    static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    static readonly SendWindow Daytime = new(new TimeOnly(8, 0), new TimeOnly(21, 0));

    static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void A_send_in_quiet_hours_moves_to_the_next_morning_in_the_customers_zone()
    {
        // 23:30 in Amsterdam (CET, +1) on 12 November: the window opens at 08:00 the next day = 07:00 UTC.
        Assert.Equal(Utc(11, 13, 7), LocalTimes.InWindow(Utc(11, 12, 22, 30), Daytime, Amsterdam));
        // The same instant is 17:30 in New York: inside the window, unchanged.
        Assert.Equal(Utc(11, 12, 22, 30), LocalTimes.InWindow(Utc(11, 12, 22, 30), Daytime, NewYork));
        // 06:59 in Amsterdam: wait a minute... and an hour: 08:00 local.
        Assert.Equal(Utc(11, 13, 7), LocalTimes.InWindow(Utc(11, 13, 5, 59), Daytime, Amsterdam));
        // Exactly 21:00 is quiet (the window is [from, to)).
        Assert.Equal(Utc(11, 14, 7), LocalTimes.InWindow(Utc(11, 13, 20), Daytime, Amsterdam));
    }

    [Fact]
    public void The_window_opens_at_local_time_across_daylight_saving_changes()
    {
        // Night of 28-29 March 2026 clocks go 02:00 CET -> 03:00 CEST: 08:00 on the 29th is 06:00 UTC, not 07:00.
        Assert.Equal(Utc(3, 29, 6), LocalTimes.InWindow(Utc(3, 28, 22), Daytime, Amsterdam));
        // Night of 24-25 October clocks go 03:00 CEST -> 02:00 CET: 08:00 on the 25th is 07:00 UTC.
        Assert.Equal(Utc(10, 25, 7), LocalTimes.InWindow(Utc(10, 24, 21), Daytime, Amsterdam));
    }

    [Fact]
    public void A_local_time_the_clocks_skip_is_taken_at_the_end_of_the_gap_and_a_repeated_one_at_its_first_occurrence()
    {
        // 02:30 does not exist in Amsterdam on 29 March: 03:00 CEST = 01:00 UTC.
        Assert.Equal(Utc(3, 29, 1), LocalTimes.NextAt(Utc(3, 28, 22), new TimeOnly(2, 30), Amsterdam));
        // 02:30 happens twice on 25 October: the first, in CEST, = 00:30 UTC.
        Assert.Equal(Utc(10, 25, 0, 30), LocalTimes.NextAt(Utc(10, 24, 22), new TimeOnly(2, 30), Amsterdam));
        // Asked during the second 02:00-03:00 hour, the next 02:30 is the second occurrence's if still ahead (01:30 UTC).
        Assert.Equal(Utc(10, 25, 1, 30), LocalTimes.NextAt(Utc(10, 25, 1, 10), new TimeOnly(2, 30), Amsterdam));
    }

    [Fact]
    public void At_waits_for_the_next_such_local_time_and_a_time_just_passed_means_tomorrow()
    {
        Assert.Equal(Utc(11, 12, 9), LocalTimes.NextAt(Utc(11, 12, 8), new TimeOnly(10, 0), Amsterdam));
        Assert.Equal(Utc(11, 13, 9), LocalTimes.NextAt(Utc(11, 12, 9, 1), new TimeOnly(10, 0), Amsterdam));
        Assert.Equal(Utc(11, 12, 9), LocalTimes.NextAt(Utc(11, 12, 9), new TimeOnly(10, 0), Amsterdam));
    }

    [Fact]
    public void A_window_may_run_past_midnight()
    {
        var evening = new SendWindow(new TimeOnly(20, 0), new TimeOnly(2, 0));
        Assert.Equal(Utc(11, 12, 19), LocalTimes.InWindow(Utc(11, 12, 11), evening, Amsterdam)); // noon -> 20:00 local
        Assert.Equal(Utc(11, 13, 0, 30), LocalTimes.InWindow(Utc(11, 13, 0, 30), evening, Amsterdam)); // 01:30 local: inside
    }
}
