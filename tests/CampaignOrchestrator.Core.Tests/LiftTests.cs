using CampaignOrchestrator.Core.Results;

namespace CampaignOrchestrator.Core.Tests;

/// <summary>
/// The lift interval against the worked examples of the statistics references: Wilson intervals from Newcombe (1998a,
/// "Two-sided confidence intervals for the single proportion", method 3) and the difference's intervals from Newcombe
/// (1998b, "Interval estimation for the difference between independent proportions", Table II, method 10), to 4 places.
/// </summary>
public sealed class LiftTests
{
    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0000, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    public void Wilson_interval_matches_the_reference(long successes, long n, double lower, double upper)
    {
        var (l, u) = Lift.Wilson(successes, n);
        Assert.Equal(lower, l, 4);
        Assert.Equal(upper, u, 4);
    }

    [Theory]
    [InlineData(56, 70, 48, 80, 0.0524, 0.3339)]
    [InlineData(9, 10, 3, 10, 0.1705, 0.8090)]
    [InlineData(5, 56, 0, 29, -0.0381, 0.1926)]
    public void Difference_interval_matches_Newcombe_method_10(long a, long m, long b, long n, double lower, double upper)
    {
        var lift = Lift.Compare(a, m, b, n);
        Assert.Equal((double)a / m - (double)b / n, lift.Difference!.Value, 10);
        Assert.Equal(lower, lift.Lower!.Value, 4);
        Assert.Equal(upper, lift.Upper!.Value, 4);
    }

    [Fact]
    public void A_clear_lift_on_groups_large_enough_is_significant()
    {
        var lift = Lift.Compare(56, 70, 48, 80);
        Assert.True(lift.Significant);
        Assert.Null(lift.Reason);
        Assert.Equal(0.8 / 0.6 - 1, lift.Relative!.Value, 10);
    }

    [Fact]
    public void An_interval_holding_zero_is_not_significant_and_says_why()
    {
        var lift = Lift.Compare(5, 56, 0, 29);
        Assert.False(lift.Significant);
        Assert.Contains("too small", lift.Reason);   // 29 held out: under the minimum, said before the interval
        var wide = Lift.Compare(12, 100, 10, 100);
        Assert.False(wide.Significant);
        Assert.Contains("includes 0", wide.Reason);
        Assert.True(wide.Lower < 0 && wide.Upper > 0);
    }

    [Fact]
    public void Small_groups_get_no_verdict_even_with_an_interval_away_from_zero()
    {
        var lift = Lift.Compare(9, 10, 3, 10);
        Assert.True(lift.Lower > 0);
        Assert.False(lift.Significant);
        Assert.Contains("at least 30", lift.Reason);
    }

    [Fact]
    public void Without_a_holdout_or_a_holdout_conversion_there_is_no_interval_or_no_relative_lift()
    {
        var none = Lift.Compare(10, 100, 0, 0);
        Assert.Null(none.Lower);
        Assert.Null(none.Difference);                                   // the conversion rate is no lift
        Assert.Equal(0.1, none.ConversionRate);
        Assert.False(none.Significant);
        Assert.Contains("(holdout: 10%)", none.Reason);
        // The key the reason names is one the rules take.
        var rules = CampaignOrchestrator.Core.Rules.RulesParser.Parse("campaigns:\n  - { id: c, trigger: { event: x }, holdout: 10%, steps: [ { action: { kind: banner, slot: s, creative: c } } ] }", "r.yaml");
        Assert.Equal(0.1, rules.Campaigns[0].HoldoutShare, 10);
        Assert.Contains("variant 1", Lift.Compare(10, 100, 0, 0, "variant 1").Reason);
        Assert.Null(Lift.Compare(10, 100, 0, 50).Relative);
    }

    [Fact]
    public void Impossible_counts_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Lift.Compare(11, 10, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Lift.Compare(1, 10, -1, 10));
    }
}
