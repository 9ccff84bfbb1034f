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
}
