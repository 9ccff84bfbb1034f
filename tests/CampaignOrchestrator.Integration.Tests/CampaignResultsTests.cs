using CampaignOrchestrator.Core.Results;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using CampaignOrchestrator.Integration.Tests.Support;
using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// A campaign's results against a scripted set of customers whose outcome is known: who got it, who converted within
/// the goal's window after a delivered step (and to which step it is attributed), the revenue, and the holdout from the
/// same trigger over the same window.
/// </summary>
public abstract class CampaignResultsTests : CampaignTestContext
{
    const string Yaml = """
        campaigns:
          - id: browse-nudge
            trigger: { event: product_viewed }
            holdout: 30%
            goal: { event: order_placed, within: 7d }
            steps:
              - action: { kind: banner, slot: home-hero, creative: first }
              - delay: 1d
                action: { kind: banner, slot: home-hero, creative: second }
        """;

    [Fact]
    public async Task Conversions_are_attributed_to_the_last_delivered_step_within_the_goal_window_and_compared_with_the_holdout()
    {
        Use(Yaml);
        const int n = 90;
        string C(int i) => $"shopper-{i}";
        JsonObject Order(int i, decimal total) => new() { ["orderId"] = $"o-{i}-{total}", ["total"] = total };
        await Consume(Enumerable.Range(0, n).Select(i => E($"v-{i}", "product_viewed", T, C(i),
            traits: new JsonObject { ["persona"] = i % 2 == 0 ? "runner" : "walker" })).ToArray());
        await Advance(TimeSpan.FromSeconds(1));                                                   // step 1 delivered
        await Refresh(); // counted with step 2 pending: the counts that follow must correct it
        // i % 5 == 0: an order of 50 two hours after the trigger, after step 1 and before step 2.
        await Consume(Enumerable.Range(0, n).Where(i => i % 5 == 0).Select(i => E($"a-{i}", "order_placed", T.AddHours(2), C(i), Order(i, 50))).ToArray());
        await Advance(TimeSpan.FromDays(1));                                                      // step 2 delivered
        // i % 3 == 0: an order of 30 two days after the trigger (after step 2); i % 3 == 1: one after 12 days, out of the window.
        await Consume(Enumerable.Range(0, n).Where(i => i % 3 == 0).Select(i => E($"b-{i}", "order_placed", T.AddDays(2), C(i), Order(i, 30))).ToArray());
        await Consume(Enumerable.Range(0, n).Where(i => i % 3 == 1).Select(i => E($"c-{i}", "order_placed", T.AddDays(12), C(i), Order(i, 99))).ToArray());
        // Another goal event type, and another campaign's customer, count for nothing here.
        await Consume(E("r-0", "review_submitted", T.AddDays(3), C(0)), E("x-1", "order_placed", T.AddDays(2), "someone-else", Order(-1, 10)));

        var held = new HashSet<int>();
        for (var i = 0; i < n; i++)
            if ((await Actions(C(i))).All(a => a.Holdout))
                held.Add(i);
        Assert.InRange(held.Count, 10, 45);
        var treated = Enumerable.Range(0, n).Where(i => !held.Contains(i)).ToList();
        bool Converts(int i) => i % 5 == 0 || i % 3 == 0;

        await Refresh();
        var results = await new CampaignOrchestrator.Infrastructure.Actions.CampaignResults(_database)
            .ReadAsync("browse-nudge", new Goal("order_placed", TimeSpan.FromDays(7)), T.AddDays(-1), T.AddDays(1), default);

        Assert.Equal((long)treated.Count, results.Customers.Treated);
        Assert.Equal(treated.LongCount(Converts), results.Customers.Converted);
        Assert.Equal(treated.Sum(i => (i % 5 == 0 ? 50m : 0) + (i % 3 == 0 ? 30m : 0)), results.Customers.Revenue);
        Assert.Equal((long)held.Count, results.Customers.Holdout);
        Assert.Equal(held.LongCount(Converts), results.Customers.HoldoutConverted);

        Assert.Equal([1, 2], results.Steps.Select(s => s.Step));
        Assert.All(results.Steps, s => Assert.Equal((n, (long)treated.Count), (s.Scheduled, s.Delivered)));
        Assert.All(results.Steps, s => Assert.Equal(held.Count, s.Suppressed["holdout"]));
        Assert.Equal(treated.LongCount(i => i % 5 == 0), results.Steps[0].Conversions);            // the 2-hour orders: after step 1 only
        Assert.Equal(treated.LongCount(i => i % 3 == 0), results.Steps[1].Conversions);            // the 2-day orders: step 2 was last
        Assert.Equal(treated.Sum(i => i % 3 == 0 ? 30m : 0), results.Steps[1].Revenue);

        var expected = Lift.Compare(treated.LongCount(Converts), treated.Count, held.LongCount(Converts), held.Count);
        Assert.Equal(expected, results.Lift);
        Assert.Equal(treated.Count, Assert.Single(results.Variants).Treated);
        Assert.Equal("7d", results.Goal.Within);

        // The runners only (a named segment's condition, judged on the customer).
        var runners = await new CampaignOrchestrator.Infrastructure.Actions.CampaignResults(_database)
            .ReadAsync("browse-nudge", new Goal("order_placed", TimeSpan.FromDays(7)), T.AddDays(-1), T.AddDays(1), default,
                new Comparison("traits.persona", ComparisonOp.Eq, JsonValue.Create("runner")));
        Assert.Equal(treated.LongCount(i => i % 2 == 0), runners.Customers.Treated);
        Assert.Equal(treated.LongCount(i => i % 2 == 0 && Converts(i)), runners.Customers.Converted);
        Assert.Equal(held.LongCount(i => i % 2 == 0), runners.Customers.Holdout);
        Assert.All(runners.Steps, s => Assert.Equal(n / 2, s.Scheduled));

        // A period in which nothing was triggered: empty, and no verdict.
        var empty = await new CampaignOrchestrator.Infrastructure.Actions.CampaignResults(_database)
            .ReadAsync("browse-nudge", Goal.Default, T.AddDays(5), T.AddDays(6), default);
        Assert.Equal(0, empty.Customers.Treated);
        Assert.False(empty.Lift.Significant);
        Assert.Empty(empty.Steps);

        // A new goal (within 12 hours) recounts the campaign: the 2-day orders, a day after step 2, no longer count.
        var rules = RulesParser.Parse(Yaml.Replace("within: 7d", "within: 12h", StringComparison.Ordinal), "test.yaml");
        _rules.Activate(new CampaignOrchestrator.Core.Campaigns.CompiledRules(rules, "v2"), _time.GetUtcNow(), ["test.yaml"]);
        await Refresh();
        var shorter = await new CampaignOrchestrator.Infrastructure.Actions.CampaignResults(_database)
            .ReadAsync("browse-nudge", new Goal("order_placed", TimeSpan.FromHours(12)), T.AddDays(-1), T.AddDays(1), default);
        Assert.Equal(treated.LongCount(i => i % 5 == 0), shorter.Customers.Converted);
        Assert.Equal(treated.Sum(i => i % 5 == 0 ? 50m : 0), shorter.Customers.Revenue);
        Assert.Equal(0, shorter.Steps[1].Conversions);
    }

    Task Refresh() => new FunnelCounters(_database, new CampaignResults(_database), _rules, _time, NullLogger<FunnelCounters>.Instance).RefreshAsync(default);

    [Fact]
    public async Task An_order_after_several_campaigns_is_revenue_of_one_influenced_by_each_and_without_a_holdout_there_is_no_lift()
    {
        Use("""
            campaigns:
              - id: cart-mail
                trigger: { event: cart_abandoned }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: cart }
              - id: offer-banner
                trigger: { event: checkout_started }
                steps:
                  - variants:
                      - { weight: 50, action: { kind: banner, slot: home-hero, creative: ten-off } }
                      - { weight: 50, action: { kind: banner, slot: home-hero, creative: free-shipping } }
            """);
        // The cart banner first, the offer banner half an hour later (each delivered a second after its event), an order
        // for every other customer an hour after the cart.
        await Consume(Enumerable.Range(0, 40).Select(i => E($"c-{i}", "cart_abandoned", T, $"amy-{i}")).ToArray());
        await Advance(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromMinutes(30));
        await Consume(Enumerable.Range(0, 40).Select(i => E($"k-{i}", "checkout_started", _time.GetUtcNow(), $"amy-{i}")).ToArray());
        await Advance(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromMinutes(30));
        await Consume(Enumerable.Range(0, 40).Where(i => i % 2 == 0)
            .Select(i => E($"o-{i}", "order_placed", _time.GetUtcNow(), $"amy-{i}", new JsonObject { ["orderId"] = $"o-{i}", ["total"] = 100 })).ToArray());
        await Refresh();

        var results = new CampaignOrchestrator.Infrastructure.Actions.CampaignResults(_database);
        var cart = await results.ReadAsync("cart-mail", Goal.Default, T.AddDays(-1), T.AddDays(1), default);
        var offer = await results.ReadAsync("offer-banner", Goal.Default, T.AddDays(-1), T.AddDays(1), default);
        // Each order once: to the offer (the last touch), none to the cart banner; both were influenced.
        Assert.Equal((0L, 0m, 20L, 2000m), (cart.Customers.Converted, cart.Customers.Revenue, cart.Customers.Influenced, cart.Customers.InfluencedRevenue));
        Assert.Equal((20L, 2000m, 20L, 2000m), (offer.Customers.Converted, offer.Customers.Revenue, offer.Customers.Influenced, offer.Customers.InfluencedRevenue));
        // No holdout: no lift, and the reason names the key the rules take.
        Assert.Null(cart.Lift.Difference);
        Assert.Equal(0.5, cart.Lift.ConversionRate);
        Assert.Contains("holdout: 10%", cart.Lift.Reason);
        // The variants against each other: B against A, with its interval.
        var ab = Assert.Single(offer.VariantComparisons);
        var (a, b) = (offer.Variants.Single(v => v.Variant == ab.Against), offer.Variants.Single(v => v.Variant == ab.Variant));
        Assert.Equal(40, a.Treated + b.Treated);
        Assert.Equal((double)b.Converted / b.Treated - (double)a.Converted / a.Treated, ab.Difference.Difference!.Value, 10);
        Assert.NotNull(ab.Difference.Lower);
        Assert.Equal(20, a.Attributed + b.Attributed);
    }
}

public sealed class SqliteCampaignResultsTests : CampaignResultsTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresCampaignResultsTests : CampaignResultsTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
