using CampaignOrchestrator.Core.Results;

namespace CampaignOrchestrator.Core.Tests;

public sealed class CampaignContributionsTests
{
    static readonly DateTimeOffset T = new(2026, 11, 2, 10, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan Week = TimeSpan.FromDays(7);

    static List<ResultCount> Of(IReadOnlyList<ResultAction> actions, params GoalEvent[] goals) => CampaignContributions.Of(actions, goals, Week).ToList();

    [Fact]
    public void An_order_counts_for_the_last_delivered_step_before_it_and_an_order_before_the_first_delivery_for_nothing()
    {
        var actions = new[]
        {
            new ResultAction(1, "email", "delivered", null, false, 0, T, T.AddHours(1)),
            new ResultAction(2, "offer", "cancelled", "exit: order_placed", false, 0, T, T.AddHours(3)),
        };
        Assert.DoesNotContain(Of(actions, new GoalEvent(T.AddMinutes(30), 80)), c => c.Counter.StartsWith("converted", StringComparison.Ordinal));
        var counts = Of(actions, new GoalEvent(T.AddHours(3), 80));
        Assert.Contains(new ResultCount("2026-11-02", "step:1:email:conversions", 1, 80), counts);
        Assert.Contains(new ResultCount("2026-11-02", "converted:0", 1, 80), counts);
        Assert.Contains(new ResultCount("2026-11-02", "step:2:offer:cancelled:exit", 1, 0), counts);
        Assert.Equal(counts, CampaignContributions.Read(CampaignContributions.Write(counts)));
    }

    [Fact]
    public void The_holdouts_window_starts_when_its_first_step_would_have_been_delivered()
    {
        // Held out: the reminder was due (and held back) an hour after the cart.
        var held = new[] { new ResultAction(1, "email", "suppressed", "suppressed: holdout", true, 0, T, T.AddHours(1)) };
        Assert.Equal(["holdout"], Of(held, new GoalEvent(T.AddMinutes(30), 80)).Select(c => c.Counter).Where(c => c.StartsWith("holdout", StringComparison.Ordinal)));
        Assert.Equal(["holdout", "holdout-converted"], Of(held, new GoalEvent(T.AddHours(2), 80)).Select(c => c.Counter).Where(c => c.StartsWith("holdout", StringComparison.Ordinal)));
        Assert.Equal(["holdout"], Of(held, new GoalEvent(T.AddHours(1) + Week + TimeSpan.FromMinutes(1), 80)).Select(c => c.Counter).Where(c => c.StartsWith("holdout", StringComparison.Ordinal)));
    }

    [Fact]
    public void An_order_after_three_campaigns_is_attributed_to_the_last_one_and_influenced_by_all()
    {
        ResultAction Delivered(DateTimeOffset at) => new(1, "email", "delivered", null, false, 0, T, at);
        var order = new GoalEvent(T.AddHours(5), 120);
        var late = new GoalEvent(T.AddDays(20), 40);            // outside every window
        IReadOnlyList<GoalEvent> orders = [order, late];
        var campaigns = new (string, IReadOnlyList<ResultAction>, TimeSpan, IReadOnlyList<GoalEvent>)[]
        {
            ("cart-recovery", [Delivered(T.AddHours(1))], Week, orders),
            ("offer-banner", [Delivered(T.AddHours(4))], Week, orders),
            ("review-request", [Delivered(T.AddHours(2))], Week, orders),
            ("held-back", [new ResultAction(1, "email", "suppressed", "holdout", true, 0, T, T.AddHours(4.5))], Week, orders),
        };
        var winners = CampaignContributions.LastTouch(campaigns);
        Assert.Equal("offer-banner", winners[order]);
        Assert.False(winners.ContainsKey(late));

        var counts = campaigns.ToDictionary(c => c.Item1, c => CampaignContributions.Of(c.Item2, c.Item4, c.Item3,
            g => winners.TryGetValue(g, out var w) && w == c.Item1).ToList());
        // Attributed once over all campaigns; influenced by each that delivered within the window.
        Assert.Equal(120m, counts.Values.SelectMany(c => c).Where(c => c.Counter.StartsWith("attributed:", StringComparison.Ordinal)).Sum(c => c.Revenue));
        Assert.Contains(new ResultCount("2026-11-02", "attributed:0", 1, 120), counts["offer-banner"]);
        Assert.Equal(3, counts.Values.Count(c => c.Any(r => r.Counter == "converted:0")));

        // A tie goes to the campaign id first in order.
        var tie = CampaignContributions.LastTouch([("b", [Delivered(T.AddHours(1))], Week, [order]), ("a", [Delivered(T.AddHours(1))], Week, [order])]);
        Assert.Equal("a", tie[order]);
    }
}
