using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>Which triggers start a campaign instance, when its steps fall due, and which events end it (by key, late, merged devices).</summary>
public abstract class CampaignStartAndExitTests : CampaignTestContext
{
    [Fact]
    public async Task An_abandoned_cart_gets_its_steps_on_time_and_a_purchase_cancels_the_rest_at_once()
    {
        Use(CartRules);
        await Consume(E("c-1", "cart_abandoned", T, "anna", Cart("cart-9"), Consent()));

        var actions = await Actions("anna");
        Assert.Equal([1, 2, 3], actions.Select(a => a.Step));
        Assert.Equal([T.AddHours(1), T.AddHours(2), T.AddHours(26)], actions.Select(a => a.DueAt));
        Assert.All(actions, a => Assert.Equal("pending", a.Status));
        Assert.All(actions, a => Assert.Equal("cart-9", a.InstanceKey));

        await Advance(TimeSpan.FromMinutes(59));
        Assert.Empty(_channel.Delivered);
        await Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["email"], _channel.Delivered.Select(d => d.Kind));
        Assert.Equal("cart-reminder", (string?)_channel.Delivered.Single().Settings["template"]);
        await Advance(TimeSpan.FromHours(1));
        Assert.Equal(["email", "retargeting"], _channel.Delivered.Select(d => d.Kind));

        // The customer buys at 13:00 (the event is consumed at once): the offer is cancelled then, not at its due time,
        // and the audience joined is left again.
        await Consume(E("o-1", "order_placed", T.AddHours(3), "anna", new JsonObject { ["orderId"] = "o-1", ["total"] = 80 }));
        actions = await Actions("anna");
        var offer = actions.Single(a => a.Kind == "offer");
        Assert.Equal("cancelled", offer.Status);
        Assert.Equal("o-1", offer.CauseEventId);
        Assert.Equal(["scheduled", "cancelled"], offer.Log.Select(l => l.Outcome));
        var leave = actions.Single(a => a.Kind == "retargeting" && (string?)a.Settings!["op"] == "leave");
        Assert.Equal("pending", leave.Status);
        await Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["email", "retargeting", "retargeting"], _channel.Delivered.Select(d => d.Kind));
        Assert.Equal("leave", (string?)_channel.Delivered.Last().Settings["op"]);

        await Advance(TimeSpan.FromDays(3));
        Assert.Equal(3, _channel.Delivered.Count);
        var email = (await Actions("anna")).Single(a => a.Kind == "email");
        Assert.Equal(["scheduled", "due", "delivered"], email.Log.Select(l => l.Outcome));
        Assert.Equal(0, email.Log.Single(l => l.Outcome == "due").LateMs);
    }

    [Fact]
    public async Task An_exit_that_happened_after_a_late_trigger_cancels_it_before_anything_is_sent()
    {
        Use(CartRules);
        // The order (10:05) is consumed before the cart_abandoned of 10:00 arrives.
        await Consume(E("o-1", "order_placed", T.AddMinutes(5), "ben", new JsonObject { ["orderId"] = "o-1" }, Consent()));
        await Consume(E("c-1", "cart_abandoned", T, "ben", Cart("cart-1")));

        var actions = await Actions("ben");
        Assert.Equal(3, actions.Count);
        Assert.All(actions, a => Assert.Equal("cancelled", a.Status));
        Assert.All(actions, a => Assert.Equal("o-1", a.CauseEventId));
        await Advance(TimeSpan.FromDays(2));
        Assert.Empty(_channel.Delivered);

        // An order before the cart does not end it.
        await Consume(E("c-2", "cart_abandoned", T.AddDays(31), "ben", Cart("cart-2")));
        Assert.Equal(3, (await Actions("ben")).Count(a => a.Status == "pending"));
    }

    [Fact]
    public async Task An_exit_in_the_same_batch_as_an_earlier_trigger_cancels_it_and_a_later_one_does_not()
    {
        Use(CartRules);
        // One batch, arrival order reversed: the order (10:05) before the cart_abandoned of 10:00 ends it.
        await Consume(E("o-1", "order_placed", T.AddMinutes(5), "bea", new JsonObject { ["orderId"] = "o-1" }, Consent()),
            E("c-1", "cart_abandoned", T, "bea", Cart("cart-1")));
        var actions = await Actions("bea");
        Assert.Equal(3, actions.Count);
        Assert.All(actions, a => Assert.Equal("cancelled", a.Status));
        Assert.All(actions, a => Assert.Equal("o-1", a.CauseEventId));

        // A customer already known (her last activity stored at 09:00): an order at 08:00 arriving with a cart of 10:00 ends nothing.
        await Consume(E("p-1", "page_viewed", T.AddHours(-1), "bo"));
        await Consume(E("o-2", "order_placed", T.AddHours(-2), "bo", new JsonObject { ["orderId"] = "o-2" }, Consent()),
            E("c-2", "cart_abandoned", T, "bo", Cart("cart-2")));
        Assert.Equal(3, (await Actions("bo")).Count(a => a.Status == "pending"));
        await Advance(TimeSpan.FromDays(2));
        Assert.DoesNotContain(await Actions("bo"), a => a.Status is "cancelled" or "pending");
    }

    [Fact]
    public async Task A_device_merged_into_the_customer_brings_its_instance_along_for_reentry_and_exits()
    {
        Use(CartRules);
        // An anonymous device abandons a cart; later, in one batch, the device logs in and the customer abandons another cart.
        await Consume(E("c-1", "cart_abandoned", T, null, Cart("cart-1"), device: "dev-9"));
        await Consume(E("l-1", "page_viewed", T.AddMinutes(10), "cara", device: "dev-9"),
            E("c-2", "cart_abandoned", T.AddMinutes(20), "cara", Cart("cart-2")));
        var actions = await Actions("cara");
        Assert.Equal(3, actions.Count); // the device's instance, now the customer's; the second cart is within the 30 days of re-entry
        Assert.All(actions, a => Assert.Equal("c-1", a.TriggerId));
        Assert.All(actions, a => Assert.Equal("pending", a.Status));

        // The order ends the instance the device started.
        await Consume(E("o-1", "order_placed", T.AddMinutes(30), "cara", new JsonObject { ["orderId"] = "o-1" }));
        actions = await Actions("cara");
        Assert.All(actions, a => Assert.Equal("cancelled", a.Status));
        Assert.All(actions, a => Assert.Equal("o-1", a.CauseEventId));
        await Advance(TimeSpan.FromDays(2));
        Assert.Empty(_channel.Delivered);
    }

    [Fact]
    public async Task A_redelivered_event_schedules_nothing_twice()
    {
        Use(CartRules);
        var cart = E("c-1", "cart_abandoned", T, "cleo", Cart("cart-1"), Consent());
        await Consume(cart);
        await Consume(cart, cart);
        var actions = await Actions("cleo");
        Assert.Equal(3, actions.Count);
        Assert.Equal(3, actions.Select(a => a.ActionId).Distinct().Count());
        Assert.All(actions, a => Assert.Single(a.Log));
    }

    [Fact]
    public async Task An_exit_ends_only_the_instance_with_its_key_when_it_carries_one()
    {
        Use(CartRules);
        await Consume(E("c-1", "cart_abandoned", T, "dana", Cart("cart-1")), E("c-2", "cart_abandoned", T.AddMinutes(1), "dana", Cart("cart-2")));
        // Re-entry is per customer (30 days), so the second cart started nothing.
        Assert.Equal(3, (await Actions("dana")).Count);

        await Consume(E("o-x", "order_placed", T.AddMinutes(10), "dana", new JsonObject { ["cartId"] = "cart-other" }));
        Assert.All(await Actions("dana"), a => Assert.Equal("pending", a.Status));
        await Consume(E("o-1", "order_placed", T.AddMinutes(11), "dana", new JsonObject { ["cartId"] = "cart-1" }));
        Assert.All(await Actions("dana"), a => Assert.Equal("cancelled", a.Status));
    }

    [Fact]
    public async Task Conditions_and_reentry_decide_who_starts()
    {
        Use(CartRules);
        await Consume(E("c-small", "cart_abandoned", T, "eve", Cart("cart-1", 10)));
        Assert.Empty(await Actions("eve"));
        await Consume(E("c-1", "cart_abandoned", T.AddMinutes(1), "eve", Cart("cart-2")));
        await Consume(E("c-2", "cart_abandoned", T.AddDays(10), "eve", Cart("cart-3")));
        Assert.Equal(3, (await Actions("eve")).Count);
        await Consume(E("c-3", "cart_abandoned", T.AddDays(31), "eve", Cart("cart-4")));
        Assert.Equal(6, (await Actions("eve")).Count);
    }

    [Fact]
    public async Task A_see_think_do_care_file_runs_on_four_phases_so_a_loyal_customer_gets_the_care_mail_once()
    {
        Use("""
            phaseModel: see-think-do-care
            campaigns:
              - id: care-mail
                trigger: { phaseEntered: care }
                transactional: true
                steps: [ { action: { kind: email, template: care } } ]
            """);
        await Consume(
            E("p-1", "page_viewed", T, "fay"),
            E("o-1", "order_placed", T.AddHours(1), "fay", new JsonObject { ["orderId"] = "o-1", ["total"] = 40 }),
            E("d-1", "order_delivered", T.AddDays(2), "fay"),
            E("o-2", "order_placed", T.AddDays(9), "fay", new JsonObject { ["orderId"] = "o-2", ["total"] = 60 }),
            E("r-1", "review_submitted", T.AddDays(10), "fay"));

        Assert.Equal(["care-mail"], (await Actions("fay")).Select(a => a.CampaignId));
        await using var connection = await _database.OpenAsync(default);
        var phases = await Dapper.SqlMapper.QueryAsync<string>(connection,
            "SELECT phase FROM phase_history WHERE profile_id = 'c:fay' ORDER BY occurred_at");
        Assert.Equal(["awareness", "purchase", "retention"], phases);
    }

    const string PhaseBanners = """
        campaigns:
          - id: award-banner
            trigger: { phaseEntered: awareness }
            steps:
              - action: { kind: banner, slot: home-hero, creative: award-2026, ttl: 14d }
          - id: benefits-banner
            trigger: { phaseEntered: consideration }
            steps:
              - action: { kind: banner, slot: home-hero, creative: benefits-2026, ttl: 14d }
          - id: offer-banner
            trigger: { phaseEntered: purchase }
            steps:
              - action: { kind: banner, slot: home-hero, creative: ten-off, ttl: 2d }
        """;

    [Fact]
    public async Task A_late_event_rebuilds_the_history_but_starts_nothing_for_a_phase_the_customer_already_left()
    {
        Use(PhaseBanners);
        // A buyer: the order first, then yesterday's browsing arrives late.
        await Consume(E("o-1", "cart_updated", T, "bo"));
        await Consume(E("late-1", "page_viewed", T.AddHours(-20), "bo"), E("late-2", "product_viewed", T.AddHours(-19), "bo"));
        await Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(["offer-banner"], (await Actions("bo")).Select(a => a.CampaignId));
        var journey = (await _store.GetAsync("bo", 100, default))!;
        Assert.Equal(["awareness", "consideration", "purchase"], journey.PhaseHistory.Select(h => h.Phase));   // the history is whole

        // Events of one batch move a new customer through phases in order: each phase it enters starts its campaign, late or not.
        await Consume(E("n-2", "product_viewed", T.AddMinutes(2), "nel"), E("n-1", "page_viewed", T.AddMinutes(1), "nel"), E("n-3", "cart_updated", T.AddMinutes(3), "nel"));
        await Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(["award-banner", "benefits-banner", "offer-banner"], (await Actions("nel")).Select(a => a.CampaignId));

        // A late event that moves the customer into the phase they are in now: that phase's campaign starts.
        await Consume(E("k-1", "page_viewed", T, "kim"));
        await Consume(E("k-late", "product_viewed", T.AddMinutes(-30), "kim"));   // late, and consideration is where kim is now
        await Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["award-banner", "benefits-banner"], (await Actions("kim")).Select(a => a.CampaignId));
    }
}

public sealed class SqliteCampaignStartAndExitTests : CampaignStartAndExitTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresCampaignStartAndExitTests : CampaignStartAndExitTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
