using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// A banner due the moment it is planned is delivered in the journey transaction that stores its event (decision 0010):
/// recorded, placed and announced with the event, never claimed. Whatever the dispatcher would judge differently (a
/// delay, a message, a capped channel, an exit in the same batch, an event from the future) still waits for it.
/// </summary>
public abstract class ImmediateDeliveryTests : CampaignTestContext
{
    const string Rules = """
        campaigns:
          - id: welcome
            trigger: { event: page_viewed }
            steps:
              - action: { kind: banner, slot: home-hero, creative: hello }
              - delay: 1h
                action: { kind: banner, slot: sidebar, creative: an-hour-later }
          - id: welcome-mail
            trigger: { event: page_viewed }
            transactional: true
            steps:
              - action: { kind: email, template: welcome }
        """;

    async Task<List<(string Slot, string Creative)>> PlacementsOf(string id) =>
        (await _placements.GetAsync(id, null, default)).Where(p => !p.IsDefault).Select(p => (p.Slot, p.Creative!)).ToList();

    [Fact]
    public async Task A_banner_due_at_once_is_recorded_placed_and_announced_with_its_event_and_never_claimed()
    {
        Use(Rules, stored: true);
        await Consume(E("v-1", "page_viewed", T, "ada"));

        // Committed with the event: delivered, logged (0 ms late), placed, banner.assigned in the outbox.
        var actions = await Actions("ada");
        var banner = Assert.Single(actions, a => a is { CampaignId: "welcome", Step: 1 });
        Assert.Equal(("delivered", T, "home-hero: hello"), (banner.Status, banner.FinishedAt!.Value, banner.Reason!));
        Assert.Equal(["scheduled", "due", "delivered"], banner.Log.Select(l => l.Outcome));
        Assert.Equal((0L, T), (banner.Log[1].LateMs!.Value, banner.Log[2].At));
        Assert.Equal([("home-hero", "hello")], await PlacementsOf("ada"));
        var announced = Assert.Single(await Outbound("banner.assigned"));
        Assert.Equal((banner.ActionId, "hello"), ((string?)announced.Body["actionId"], (string?)announced.Body["creative"]));
        // The later banner and the email (a message) wait for the dispatcher.
        Assert.Equal("pending", actions.Single(a => a is { CampaignId: "welcome", Step: 2 }).Status);
        Assert.Equal("pending", actions.Single(a => a.CampaignId == "welcome-mail").Status);

        // The dispatcher's round claims the email only; an hour later the second banner.
        await Advance(TimeSpan.Zero);
        Assert.Equal(["email"], _channel.Delivered.Select(d => d.Kind));
        await Advance(TimeSpan.FromHours(1));
        Assert.Equal([("home-hero", "hello"), ("sidebar", "an-hour-later")], (await PlacementsOf("ada")).OrderBy(p => p.Slot).ToList());
        Assert.Equal(["email"], _channel.Delivered.Select(d => d.Kind));
        Assert.Equal(2, (await Outbound("banner.assigned")).Count);
        Assert.All(await Actions("ada"), a => Assert.Equal("delivered", a.Status));
    }

    [Fact]
    public async Task A_held_out_customer_is_suppressed_at_once_as_the_dispatcher_would()
    {
        Use("""
            campaigns:
              - id: held
                trigger: { event: page_viewed }
                holdout: 100%
                steps:
                  - action: { kind: banner, slot: home-hero, creative: nothing }
            """, stored: true);
        await Consume(E("v-2", "page_viewed", T, "bea"));
        var action = Assert.Single(await Actions("bea"));
        Assert.Equal(("suppressed", "holdout"), (action.Status, action.Reason));
        Assert.Equal(["scheduled", "due", "suppressed"], action.Log.Select(l => l.Outcome));
        Assert.Empty(await PlacementsOf("bea"));
        Assert.Empty(await Outbound("banner."));
    }

    [Fact]
    public async Task A_capped_banner_waits_for_the_dispatcher_which_judges_the_cap()
    {
        Use("""
            defaults:
              frequencyCap: { channel: banner, max: 1, per: 1d }
            campaigns:
              - id: capped
                trigger: { event: page_viewed }
                reentry: { after: 1s }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: capped }
            """, stored: true);
        await Consume(E("v-3", "page_viewed", T, "cleo"));
        await Consume(E("v-4", "page_viewed", T.AddSeconds(5), "cleo"));
        Assert.All(await Actions("cleo"), a => Assert.Equal("pending", a.Status));
        Assert.Empty(await PlacementsOf("cleo"));

        await Advance(TimeSpan.FromSeconds(5));
        var actions = await Actions("cleo");
        Assert.Equal(["delivered", "pending"], actions.OrderBy(a => a.TriggeredAt).Select(a => a.Status));
        Assert.StartsWith("cap:", actions.OrderBy(a => a.TriggeredAt).Last().Reason);
        Assert.Single(await Outbound("banner.assigned"));
    }

    [Fact]
    public async Task An_exit_in_the_same_batch_cancels_the_banner_instead_of_it_being_delivered()
    {
        Use("""
            campaigns:
              - id: browse
                trigger: { event: page_viewed }
                exitOn: [order_placed]
                steps:
                  - action: { kind: banner, slot: home-hero, creative: come-back }
            """, stored: true);
        // One batch: the view and, a second later, the order that ends the instance.
        await Consume(E("v-5", "page_viewed", T, "dora"), E("o-5", "order_placed", T.AddSeconds(1), "dora"));
        var action = Assert.Single(await Actions("dora"));
        Assert.Equal(("cancelled", "o-5"), (action.Status, action.CauseEventId));
        await Advance(TimeSpan.FromSeconds(2));
        Assert.Empty(await PlacementsOf("dora"));
        Assert.Empty(await Outbound("banner."));
    }

    [Fact]
    public async Task A_banner_triggered_from_the_future_and_one_of_a_device_merged_in_the_batch_wait_for_the_dispatcher()
    {
        Use("""
            campaigns:
              - id: welcome
                trigger: { event: page_viewed }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: hello }
            """, stored: true);
        // A shop whose clock runs ten minutes ahead: due then, not now.
        await Consume(E("v-6", "page_viewed", T.AddMinutes(10), "eve"));
        Assert.Equal("pending", (await Actions("eve")).Single(a => a.Step == 1).Status);
        Assert.Empty(await PlacementsOf("eve"));
        await Advance(TimeSpan.FromMinutes(10));
        Assert.Equal([("home-hero", "hello")], await PlacementsOf("eve"));

        // A device's view and its login in one batch: the device's banner is the customer's, delivered once, by the dispatcher.
        await Consume(E("v-7", "page_viewed", T.AddMinutes(10), null, device: "dev-7"),
            E("l-7", "page_viewed", T.AddMinutes(10).AddSeconds(1), "fay", device: "dev-7"));
        await Advance(TimeSpan.Zero);
        var banners = (await Actions("fay")).Where(a => a is { CampaignId: "welcome", Step: 1 }).ToList();
        Assert.All(banners, a => Assert.Equal("delivered", a.Status));
        Assert.Equal([("home-hero", "hello")], await PlacementsOf("fay"));
        Assert.Equal(banners.Count + 1, (await Outbound("banner.assigned")).Count);
    }
}

public sealed class SqliteImmediateDeliveryTests : ImmediateDeliveryTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresImmediateDeliveryTests : ImmediateDeliveryTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
