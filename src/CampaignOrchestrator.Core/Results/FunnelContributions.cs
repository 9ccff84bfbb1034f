using System.Globalization;
using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Results;

/// <summary>
/// What one customer adds to the kept funnel counters, from their phase history, their devices and the first time they did
/// each micro-conversion step: every phase entry (day, from which phase), each entry that went on to a later phase (and how
/// long that took, in <see cref="Buckets"/>), the phase they are in now, and the micro-conversion steps reached in order
/// from their first product view. Pure: the counter job stores the list per customer and applies the difference when it changes.
/// </summary>
public static class FunnelContributions
{
    /// <summary>The micro-conversion steps, in order (wire contract event types).</summary>
    public static readonly string[] MicroSteps = ["product_viewed", "cart_updated", "checkout_started", "order_placed"];

    /// <summary>Upper bounds of the time-to-next buckets; the last bucket is open (over a year).</summary>
    public static readonly TimeSpan[] Buckets =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1),
        TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(8), TimeSpan.FromHours(12), TimeSpan.FromDays(1),
        TimeSpan.FromDays(2), TimeSpan.FromDays(3), TimeSpan.FromDays(5), TimeSpan.FromDays(7), TimeSpan.FromDays(10),
        TimeSpan.FromDays(14), TimeSpan.FromDays(21), TimeSpan.FromDays(30), TimeSpan.FromDays(45), TimeSpan.FromDays(60),
        TimeSpan.FromDays(90), TimeSpan.FromDays(180), TimeSpan.FromDays(365), TimeSpan.MaxValue,
    ];

    /// <summary>The UTC day of <paramref name="at"/> as the counters key it.</summary>
    public static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The bucket a time-to-next falls in.</summary>
    public static int BucketOf(TimeSpan took)
    {
        for (var i = 0; i < Buckets.Length; i++)
            if (took <= Buckets[i])
                return i;
        return Buckets.Length - 1;
    }

    /// <param name="history">The phase history, oldest first (phase changes only).</param>
    /// <param name="cross">True when the customer used more than one device.</param>
    /// <param name="firstTimes">The first time the customer did each of <see cref="MicroSteps"/> (null: never).</param>
    public static IEnumerable<FunnelCount> Of(IReadOnlyList<(Phase Phase, DateTimeOffset At)> history, bool cross, IReadOnlyList<DateTimeOffset?> firstTimes)
    {
        for (var i = 0; i < history.Count; i++)
        {
            var (phase, at) = history[i];
            yield return new FunnelCount(FunnelCountKind.Entry, Day(at), cross, (int)phase, i == 0 ? 0 : (int)history[i - 1].Phase, 0);
            if (i + 1 < history.Count && history[i + 1].Phase > phase)
                yield return new FunnelCount(FunnelCountKind.Converted, Day(at), cross, (int)phase, (int)history[i + 1].Phase, BucketOf(history[i + 1].At - at));
        }
        if (history.Count > 0)
            yield return new FunnelCount(FunnelCountKind.Now, "", cross, (int)history[^1].Phase, 0, 0);
        // The steps in order: each counts when it and every step before it were done, each no earlier than the one before.
        if (firstTimes.Count > 0 && firstTimes[0] is { } viewed)
        {
            var previous = viewed;
            for (var step = 0; step < firstTimes.Count && firstTimes[step] is { } did && did >= previous; step++)
            {
                yield return new FunnelCount(FunnelCountKind.Micro, Day(viewed), cross, step, 0, 0);
                previous = did;
            }
        }
    }
}
