using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Results;

namespace CampaignOrchestrator.Core.Tests;

public sealed class FunnelTests
{
    static readonly DateTimeOffset T = new(2026, 11, 2, 23, 30, 0, TimeSpan.Zero);

    [Fact]
    public void A_customer_adds_each_entry_its_conversion_to_a_later_phase_and_the_phase_they_are_in_now()
    {
        // Awareness, consideration 2 h later (the next UTC day), a reset back to awareness, purchase a week after that.
        var history = new List<(Phase, DateTimeOffset)>
        {
            (Phase.Awareness, T), (Phase.Consideration, T.AddHours(2)), (Phase.Awareness, T.AddDays(1)), (Phase.Purchase, T.AddDays(8)),
        };
        var counts = FunnelContributions.Of(history, cross: false, [T.AddHours(2), null, T.AddDays(8), T.AddDays(8)]).ToList();
        Assert.Equal(
        [
            "0|2026-11-02|0|1|0|0", "1|2026-11-02|0|1|2|5",
            "0|2026-11-03|0|2|1|0",
            "0|2026-11-03|0|1|2|0", "1|2026-11-03|0|1|3|13",
            "0|2026-11-10|0|3|1|0",
            "2||0|3|0|0",
            // A product view, then no cart: the checkout and order after it do not count as micro-conversion steps.
            "3|2026-11-03|0|0|0|0",
        ], counts.Select(c => c.Key));
        Assert.Equal(counts, counts.Select(c => FunnelCount.FromKey(c.Key)));
    }

    [Fact]
    public void The_funnel_groups_a_four_phase_models_last_phase_and_counts_an_entry_into_it_once()
    {
        var counts = new[]
        {
            new FunnelCount(FunnelCountKind.Entry, "d", false, (int)Phase.Purchase, 0, 0, 10),
            new FunnelCount(FunnelCountKind.Converted, "d", false, (int)Phase.Purchase, (int)Phase.Retention, 9, 6),
            new FunnelCount(FunnelCountKind.Converted, "d", false, (int)Phase.Purchase, (int)Phase.Loyalty, 13, 2),
            new FunnelCount(FunnelCountKind.Entry, "d", false, (int)Phase.Retention, (int)Phase.Purchase, 0, 6),
            new FunnelCount(FunnelCountKind.Entry, "d", false, (int)Phase.Loyalty, (int)Phase.Purchase, 0, 2),
            new FunnelCount(FunnelCountKind.Entry, "d", false, (int)Phase.Loyalty, (int)Phase.Retention, 0, 4),
            new FunnelCount(FunnelCountKind.Converted, "d", false, (int)Phase.Retention, (int)Phase.Loyalty, 13, 4),
        };
        var (five, _, _) = Funnel.Build(counts, PhaseVocabulary.FivePhase);
        Assert.Equal([0L, 0L, 10L, 6L, 6L], five.Select(p => p.Reached));
        Assert.Equal([0L, 0L, 8L, 4L, 0L], five.Select(p => p.ConvertedToNext));
        var (race, _, _) = Funnel.Build(counts, PhaseVocabulary.All["race"]);
        Assert.Equal([("reach", 0L, 0L), ("act", 0L, 0L), ("convert", 10L, 8L), ("engage", 8L, 0L)], race.Select(p => (p.Phase, p.Reached, p.ConvertedToNext)));
        Assert.Equal(0.8, race[2].ConversionRate);
    }

    [Fact]
    public void Quantiles_interpolate_within_their_bucket()
    {
        var buckets = new long[FunnelContributions.Buckets.Length];
        buckets[4] = 5; // 30 min - 1 h
        buckets[9] = 5; // 12 h - 1 d
        Assert.Equal(TimeSpan.FromHours(1), Funnel.Quantile(buckets, 0.5));
        Assert.Equal(TimeSpan.FromHours(21.6), Funnel.Quantile(buckets, 0.9));
        Assert.Null(Funnel.Quantile(new long[FunnelContributions.Buckets.Length], 0.5));
    }
}
