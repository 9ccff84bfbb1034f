using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>The dispatcher itself: derived events, exits racing a delivery, and firing late after an outage.</summary>
public abstract class DispatcherTests : CampaignTestContext
{
    [Fact]
    public async Task A_cart_left_without_an_order_becomes_a_derived_cart_abandoned_that_starts_cart_recovery()
    {
        Use("""
            derive:
              cartAbandoned: { after: 30m }
            campaigns:
              - id: cart-recovery
                trigger: { event: cart_abandoned }
                key: properties.cartId
                exitOn: [order_placed]
                steps:
                  - delay: 1h
                    action: { kind: banner, slot: home-hero, creative: your-cart }
            """);
        // Sara updates her cart, then starts checkout 10 minutes later: the clock restarts.
        await Consume(E("u-1", "cart_updated", T, "sara", Cart("cart-1")));
        await Consume(E("k-1", "checkout_started", T.AddMinutes(10), "sara", Cart("cart-1", 95)));
        // Tom buys within the half hour; Uma's order (10:20) arrives before her cart update (10:00).
        await Consume(E("u-2", "cart_updated", T, "tom", Cart("cart-2")), E("o-2", "order_placed", T.AddMinutes(20), "tom", new JsonObject { ["orderId"] = "o-2" }));
        await Consume(E("o-3", "order_placed", T.AddMinutes(20), "uma", new JsonObject { ["orderId"] = "o-3" }));
        await Consume(E("u-3", "cart_updated", T, "uma", Cart("cart-3")));

        await Advance(TimeSpan.FromMinutes(39));
        Assert.DoesNotContain("cart_abandoned", (await _store.GetAsync("sara", 100, default))!.Timeline.Select(t => t.Type));
        await Advance(TimeSpan.FromMinutes(1));
        var sara = (await _store.GetAsync("sara", 100, default))!;
        var derived = sara.Timeline.Single(t => t.Type == "cart_abandoned");
        Assert.Equal(T.AddMinutes(40), derived.OccurredAt);
        Assert.True((bool)derived.Properties!["derived"]!);
        Assert.Equal(95, (decimal)derived.Properties!["cartValue"]!);
        Assert.Equal("k-1", (string?)derived.Context!["derivedFrom"]);
        var recovery = (await Actions("sara")).Single(a => a.CampaignId == "cart-recovery");
        Assert.Equal((derived.EventId, T.AddMinutes(100)), (recovery.TriggerId, recovery.DueAt));

        foreach (var customer in new[] { "tom", "uma" })
        {
            Assert.DoesNotContain("cart_abandoned", (await _store.GetAsync(customer, 100, default))!.Timeline.Select(t => t.Type));
            Assert.All(await Actions(customer), a => Assert.Equal("cancelled", a.Status));
        }
        await Advance(TimeSpan.FromHours(1));
        Assert.Equal(["your-cart"], _channel.Delivered.Select(d => (string?)d.Settings["creative"]));
    }

    [Fact]
    public async Task An_exit_while_a_step_is_being_delivered_leaves_that_step_alone_and_cancels_the_rest()
    {
        Use(CartRules);
        var gate = new GateChannel();
        var dispatcher = TestDispatcher.Build(_database, _rules, [gate], _store, _time);
        await Consume(E("c-1", "cart_abandoned", T, "vera", Cart("cart-1"), Consent()));
        _time.Advance(TimeSpan.FromHours(1));
        var firing = dispatcher.FireDueAsync(default);
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));   // the reminder is with the channel

        await Consume(E("o-1", "order_placed", T.AddMinutes(61), "vera", new JsonObject { ["orderId"] = "o-1" }));
        gate.Release.SetResult();
        Assert.Equal(1, await firing);

        var actions = await Actions("vera");
        Assert.Equal(["delivered", "cancelled", "cancelled"], actions.Select(a => a.Status));
        Assert.Equal(["scheduled", "due", "delivered"], actions[0].Log.Select(l => l.Outcome));
    }

    sealed class GateChannel : IActionChannel
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Handles(string kind) => true;

        public async Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Release.Task;
            return ChannelResult.Ok("sent");
        }
    }

    [Fact]
    public async Task Actions_fired_late_after_an_outage_are_recorded_as_late()
    {
        Use(CartRules);
        await Consume(E("c-1", "cart_abandoned", T, "mo", Cart("cart-1"), Consent()));
        await Advance(TimeSpan.FromHours(5)); // the worker was down: steps 1 and 2 fire now, 4 and 3 hours late
        var late = (await Actions("mo")).Where(a => a.Status == "delivered").Select(a => a.Log.Single(l => l.Outcome == "due")).ToList();
        Assert.Equal(2, late.Count);
        Assert.All(late, l => Assert.StartsWith("late", l.Reason));
        Assert.Equal([3 * 3600_000L, 4 * 3600_000L], late.Select(l => l.LateMs!.Value).Order());
    }
}

public sealed class SqliteDispatcherTests : DispatcherTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresDispatcherTests : DispatcherTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
