using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Results;

/// <summary>One phase of the connected funnel (<c>GET /api/funnel</c>), under the chosen model's name.</summary>
/// <param name="Reached">Customers who entered the phase in the period (a customer sent back and entering again counts again).</param>
/// <param name="Now">Customers in the phase now.</param>
/// <param name="ConvertedToNext">Of <paramref name="Reached"/>, those who went on to a later phase (by now).</param>
/// <param name="MedianTimeToNext">How long that took, median and 90th percentile (interpolated in the counters' buckets).</param>
public sealed record FunnelPhase(string Phase, long Reached, long Now, long ConvertedToNext, double? ConversionRate, TimeSpan? MedianTimeToNext, TimeSpan? P90TimeToNext);

/// <summary>A micro-conversion step: customers whose first product view was in the period and who did this step after it.</summary>
/// <param name="Rate">Of the previous step's customers (null for the first step).</param>
public sealed record MicroConversion(string Step, long Count, double? Rate);

/// <summary>The funnel's phases and micro-conversions, built from kept counters.</summary>
public static class Funnel
{
    /// <summary>
    /// The phases of <paramref name="model"/> in order, from counters already limited to the period's days and the device
    /// (entries, conversions and micro-conversions by day; <see cref="FunnelCountKind.Now"/> whatever the day).
    /// </summary>
    public static (IReadOnlyList<FunnelPhase> Phases, IReadOnlyList<MicroConversion> Micro, long Customers) Build(IEnumerable<FunnelCount> counts, PhaseVocabulary model)
    {
        var groups = Enumerable.Range(0, model.Names.Count).Select(model.Covers).ToArray();
        int groupOf(int phase) => Array.FindIndex(groups, g => g.Contains((Phase)phase));
        var reached = new long[groups.Length];
        var now = new long[groups.Length];
        var converted = new long[groups.Length];
        var took = groups.Select(_ => new long[FunnelContributions.Buckets.Length]).ToArray();
        var micro = new long[FunnelContributions.MicroSteps.Length];
        foreach (var c in counts)
        {
            switch (c.Kind)
            {
                case FunnelCountKind.Entry when c.Phase is >= 1 and <= 5:
                    // Entering a group from outside it: retention -> loyalty is no entry into care.
                    if (groupOf(c.Phase) is var g && (c.Other == 0 || groupOf(c.Other) != g))
                        reached[g] += c.N;
                    break;
                case FunnelCountKind.Converted when c.Phase is >= 1 and <= 5 && c.Other is >= 1 and <= 5:
                    if (groupOf(c.Phase) is var from && groupOf(c.Other) > from)
                    {
                        converted[from] += c.N;
                        took[from][Math.Clamp(c.Bucket, 0, FunnelContributions.Buckets.Length - 1)] += c.N;
                    }
                    break;
                case FunnelCountKind.Now when c.Phase is >= 1 and <= 5:
                    now[groupOf(c.Phase)] += c.N;
                    break;
                case FunnelCountKind.Micro when c.Phase >= 0 && c.Phase < micro.Length:
                    micro[c.Phase] += c.N;
                    break;
            }
        }
        var phases = groups.Select((_, i) => new FunnelPhase(model.Names[i], reached[i], now[i], converted[i],
            reached[i] == 0 ? null : Math.Round((double)converted[i] / reached[i], 4), Quantile(took[i], 0.5), Quantile(took[i], 0.9))).ToList();
        var steps = micro.Select((n, i) => new MicroConversion(FunnelContributions.MicroSteps[i], n,
            i == 0 ? null : micro[i - 1] == 0 ? null : Math.Round((double)n / micro[i - 1], 4))).ToList();
        return (phases, steps, now.Sum());
    }

    /// <summary>The <paramref name="q"/> quantile of a bucketed distribution, linear within its bucket; null when empty.</summary>
    public static TimeSpan? Quantile(IReadOnlyList<long> buckets, double q)
    {
        var total = buckets.Sum();
        if (total == 0)
            return null;
        var rank = q * total;
        long below = 0;
        for (var i = 0; i < buckets.Count; i++)
        {
            if (buckets[i] == 0 || below + buckets[i] < rank)
            {
                below += buckets[i];
                continue;
            }
            var low = i == 0 ? TimeSpan.Zero : FunnelContributions.Buckets[i - 1];
            // The open last bucket reports its lower bound.
            if (i == buckets.Count - 1)
                return low;
            var high = FunnelContributions.Buckets[i];
            var within = (rank - below) / buckets[i];
            return TimeSpan.FromSeconds(Math.Round(low.TotalSeconds + within * (high - low).TotalSeconds));
        }
        return FunnelContributions.Buckets[^2];
    }
}
