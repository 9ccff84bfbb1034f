using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Campaigns end to end below the bus, on a fake clock (delays of days in milliseconds), on SQLite
/// and PostgreSQL: events in through the journey store, due actions fired by the dispatcher, and
/// what a marketer would check in the outcome log.
/// </summary>
public abstract class CampaignSchedulingTests : IAsyncLifetime
{
    // Monday 2 November 2026, 10:00 in Amsterdam (CET, UTC+1).
    static readonly DateTimeOffset T = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    const string CartRules = """
        defaults:
          timeZone: Europe/Amsterdam
        campaigns:
          - id: cart-recovery
            trigger: { event: cart_abandoned }
            key: properties.cartId
            conditions: { all: [ { field: properties.cartValue, op: gte, value: 25 } ] }
            exitOn: [order_placed]
            reentry: { after: 30d }
            steps:
              - delay: 1h
                action: { kind: email, template: cart-reminder }
              - delay: 1h
                action: { kind: retargeting, audience: cart-abandoners }
              - delay: 24h
                action: { kind: offer, discountPercent: 10, validFor: 72h, template: cart-offer }
        """;

    readonly FakeTimeProvider _time = new(T);
    readonly RecordingChannel _channel = new();
    string _connectionString = "";
    Database _database = null!;
    ActiveRules _rules = null!;
    JourneyStore _store = null!;
    ActionDispatcher _dispatcher = null!;
    ActionStore _queries = null!;
    PlacementQueries _placements = null!;

    protected abstract StorageProvider Provider { get; }
    protected abstract Task<string> CreateDatabaseAsync();
    protected abstract Task DropDatabaseAsync(string connectionString);

    public async Task InitializeAsync()
    {
        _connectionString = await CreateDatabaseAsync();
        _database = new Database(Provider, _connectionString);
        await new SchemaMigrator(_database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
        _queries = new ActionStore(_database, NullLogger.Instance);
    }

    public async Task DisposeAsync()
    {
        _database.Dispose();
        await DropDatabaseAsync(_connectionString);
    }

    /// <param name="stored">Banners and offers through their channels (placements, codes), the rest recorded.</param>
    void Use(string yaml, bool stored = false)
    {
        _rules = new ActiveRules(new CompiledRules(RulesParser.Parse(yaml, "test.yaml"), "v1"), _time.GetUtcNow());
        _store = new JourneyStore(_database, _rules, _time, NullLogger<JourneyStore>.Instance);
        _placements = new PlacementQueries(_database, _time, Options.Create(new PlacementOptions { Defaults = { ["home-hero"] = "house-default" } }));
        IActionChannel[] channels = stored
            ? [new BannerChannel(_time), new OfferChannel(_database, _time), new RetargetingChannel(_database, Options.Create(new RetargetingOptions()), _time), _channel]
            : [_channel];
        _dispatcher = new ActionDispatcher(_database, _rules, channels, new DirectJourneyWriter(_store), new ActionMetrics(), _time,
            Options.Create(new SchedulingOptions()), NullLogger<ActionDispatcher>.Instance);
    }

    static AcceptedEvent E(string id, string type, DateTimeOffset at, string? customer, JsonObject? properties = null, JsonObject? traits = null,
        string? device = null) =>
        new(id, type, at, customer, device, traits, properties, null);

    static JsonObject Consent(bool consent = true) => new() { ["emailConsent"] = consent };

    static JsonObject Cart(string cartId, decimal value = 80) => new() { ["cartId"] = cartId, ["cartValue"] = value };

    Task Consume(params AcceptedEvent[] events) => _store.ApplyAsync(events, default);

    /// <summary>Moves the clock and fires whatever fell due.</summary>
    async Task Advance(TimeSpan by)
    {
        _time.Advance(by);
        while (await _dispatcher.FireDueAsync(default) > 0) { }
    }

    async Task<IReadOnlyList<ActionView>> Actions(string customerId) =>
        (await _queries.ForProfileAsync("c:" + customerId, 1000, default)).OrderBy(a => a.CampaignId).ThenBy(a => a.Step).ToList();

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
    public async Task Marketing_waits_for_the_send_window_in_the_customers_zone_and_transactional_goes_at_once()
    {
        Use("""
            defaults:
              timeZone: Europe/Amsterdam
              sendWindow: { from: "08:00", to: "21:00" }
            campaigns:
              - id: nudge
                trigger: { event: product_viewed }
                steps:
                  - delay: 12h
                    action: { kind: email, template: nudge }
              - id: confirm
                trigger: { event: order_placed }
                transactional: true
                steps:
                  - delay: 12h
                    action: { kind: email, template: order-confirmation }
            """);
        // 10:00 Amsterdam + 12 h = 22:00, in quiet hours: the nudge waits for 08:00 Amsterdam (07:00 UTC).
        await Consume(E("v-1", "product_viewed", T, "finn", traits: Consent()));
        // A customer in New York: 05:00 there + 12 h = 17:00, inside the window.
        await Consume(E("v-2", "product_viewed", T, "gwen", traits: new JsonObject { ["emailConsent"] = true, ["timeZone"] = "America/New_York" }));
        // Transactional, no consent, due at 22:00: goes at once.
        await Consume(E("o-1", "order_placed", T, "hugo"));

        await Advance(TimeSpan.FromHours(12));
        Assert.Equal(["gwen", "hugo"], _channel.Delivered.Select(d => d.CustomerId).Order());
        var nudge = (await Actions("finn")).Single();
        Assert.Equal("pending", nudge.Status);
        Assert.Equal(new DateTimeOffset(2026, 11, 3, 7, 0, 0, TimeSpan.Zero), nudge.DueAt);
        Assert.Equal("window", nudge.Log.Single(l => l.Outcome == "deferred").Reason);

        await Advance(TimeSpan.FromHours(10) - TimeSpan.FromSeconds(1));
        Assert.DoesNotContain("finn", _channel.Delivered.Select(d => d.CustomerId));
        await Advance(TimeSpan.FromSeconds(1));
        Assert.Contains("finn", _channel.Delivered.Select(d => d.CustomerId));
    }

    [Fact]
    public async Task Without_consent_marketing_email_is_suppressed_and_recorded()
    {
        Use(CartRules);
        await Consume(E("c-1", "cart_abandoned", T, "ida", Cart("cart-1"), Consent(false)));
        await Advance(TimeSpan.FromHours(1));
        var email = (await Actions("ida")).Single(a => a.Kind == "email");
        Assert.Equal("suppressed", email.Status);
        Assert.Equal("consent", email.Reason);
        Assert.Empty(_channel.Delivered);
        // Retargeting is not email: it goes (its own consent rules come with the channel).
        await Advance(TimeSpan.FromHours(1));
        Assert.Equal(["retargeting"], _channel.Delivered.Select(d => d.Kind));
    }

    [Theory]
    [InlineData("defer")]
    [InlineData("skip")]
    public async Task A_frequency_cap_lets_the_higher_priority_send_go_and_defers_or_skips_the_other(string onCap)
    {
        Use($$"""
            defaults:
              frequencyCap: { channel: email, max: 1, per: 7d, onCap: {{onCap}} }
            campaigns:
              - id: low
                priority: 1
                trigger: { event: product_viewed }
                steps:
                  - delay: 1h
                    action: { kind: email, template: low }
              - id: high
                priority: 10
                trigger: { event: product_viewed }
                steps:
                  - delay: 1h
                    action: { kind: email, template: high }
            """);
        await Consume(E("v-1", "product_viewed", T, "jan", traits: Consent()));
        await Advance(TimeSpan.FromHours(1));
        Assert.Equal(["high"], _channel.Delivered.Select(d => d.CampaignId));
        var low = (await Actions("jan")).Single(a => a.CampaignId == "low");
        if (onCap == "skip")
        {
            Assert.Equal("suppressed", low.Status);
            Assert.StartsWith("cap", low.Reason);
        }
        else
        {
            Assert.Equal("pending", low.Status);
            Assert.Equal(T.AddHours(1).AddDays(7), low.DueAt);
            await Advance(TimeSpan.FromDays(7));
            Assert.Equal(["high", "low"], _channel.Delivered.Select(d => d.CampaignId));
        }
    }

    [Fact]
    public async Task Holdout_and_variants_are_stable_per_customer_and_recorded()
    {
        Use("""
            campaigns:
              - id: split
                trigger: { event: product_viewed }
                reentry: { after: 1s }
                holdout: 20%
                steps:
                  - variants:
                      - { weight: 50, action: { kind: banner, slot: home-hero, creative: a } }
                      - { weight: 50, action: { kind: banner, slot: home-hero, creative: b } }
            """);
        var events = Enumerable.Range(0, 400).Select(i => E($"v-{i}", "product_viewed", T, $"cust-{i}")).ToArray();
        await Consume(events);
        await Consume(Enumerable.Range(0, 400).Select(i => E($"w-{i}", "product_viewed", T.AddHours(1), $"cust-{i}")).ToArray());
        await Advance(TimeSpan.FromHours(2));

        var summary = await _queries.SummaryAsync("split", default);
        var step = Assert.Single(summary.Steps);
        Assert.Equal(800, step.ByStatus.Values.Sum());
        Assert.InRange(step.Holdout, 2 * 50, 2 * 110);                 // about 20 % of 400 customers, both times
        Assert.Equal(step.Holdout, step.ByStatus["suppressed"]);
        Assert.InRange(step.Variant0, 800 * 0.35, 800 * 0.65);
        for (var i = 0; i < 400; i += 37)
        {
            var both = await Actions($"cust-{i}");
            Assert.Equal(2, both.Count);
            Assert.Equal(both[0].Holdout, both[1].Holdout);
            Assert.Equal(both[0].Variant, both[1].Variant);
        }
        Assert.Equal(800 - step.Holdout, _channel.Delivered.Count);
    }

    [Fact]
    public async Task Entering_a_phase_starts_its_campaign_once()
    {
        Use("""
            campaigns:
              - id: award-banner
                trigger: { phaseEntered: awareness }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: award-2026, ttl: 14d }
            """);
        await Consume(E("p-1", "page_viewed", T, "kim"), E("p-2", "page_viewed", T.AddMinutes(1), "kim"));
        await Consume(E("p-3", "ad_clicked", T.AddMinutes(2), "kim"));
        await Advance(TimeSpan.FromSeconds(1));
        var banner = Assert.Single(await Actions("kim"));
        Assert.Equal("delivered", banner.Status);
        Assert.Equal("p-1", banner.TriggerId);
        Assert.Equal("award-2026", (string?)_channel.Delivered.Single().Settings["creative"]);
    }

    const string BannerRules = """
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
              - action: { kind: banner, slot: home-hero, creative: ten-percent-off, ttl: 2d }
              - action: { kind: banner, slot: sidebar, creative: free-shipping }
        """;

    async Task<string?> Banner(string id, string slot = "home-hero") => Assert.Single(await _placements.GetAsync(id, slot, default)).Creative;

    [Fact]
    public async Task Banners_become_the_customers_placement_per_slot_and_follow_the_phases_until_they_expire()
    {
        Use(BannerRules, stored: true);
        Assert.Equal("house-default", await Banner("rosa"));                  // nobody yet: the slot's default, not an error

        await Consume(E("b-1", "page_viewed", T, "rosa"));
        Assert.Equal("house-default", await Banner("rosa"));                  // scheduled, not yet delivered
        await Advance(TimeSpan.FromSeconds(1));
        var award = Assert.Single(await _placements.GetAsync("rosa", "home-hero", default));
        Assert.Equal(("award-2026", false, "award-banner"), (award.Creative, award.IsDefault, award.CampaignId));
        Assert.Equal(award.AssignedAt + TimeSpan.FromDays(14), award.ExpiresAt);

        await Consume(E("b-2", "product_viewed", T.AddMinutes(5), "rosa"));
        await Advance(TimeSpan.FromMinutes(5));
        Assert.Equal("benefits-2026", await Banner("rosa"));

        await Consume(E("b-3", "cart_updated", T.AddMinutes(10), "rosa"));
        await Advance(TimeSpan.FromMinutes(5));
        var offer = Assert.Single(await _placements.GetAsync("rosa", "home-hero", default));
        Assert.Equal("ten-percent-off", offer.Creative);
        Assert.Equal("free-shipping", await Banner("rosa", "sidebar"));
        var all = await _placements.GetAsync("rosa", null, default);
        Assert.Equal([("home-hero", "ten-percent-off"), ("sidebar", "free-shipping")], all.Select(p => (p.Slot, p.Creative)));

        // The offer banner's ttl is 2 days; the sidebar's has none.
        await Advance(TimeSpan.FromDays(2));
        Assert.Equal("house-default", await Banner("rosa"));
        Assert.Equal("free-shipping", await Banner("rosa", "sidebar"));
        Assert.True(Assert.Single(await _placements.GetAsync("rosa", "home-hero", default)).IsDefault);

        // The sweep clears it and tells the webshop's systems (banner.cleared in the outbox, with the assignment's fields).
        var sweeper = new PlacementSweeper(_database, _time, new Infrastructure.Messaging.OutboxSignal(), NullLogger<PlacementSweeper>.Instance);
        Assert.Equal(1, await sweeper.SweepAsync(default));
        Assert.Equal(0, await sweeper.SweepAsync(default));
        await using var connection = await _database.OpenAsync(default);
        var events = (await Dapper.SqlMapper.QueryAsync<(string RoutingKey, string Body)>(connection, "SELECT routing_key, body FROM outbox ORDER BY seq")).ToList();
        Assert.Equal(["banner.assigned", "banner.assigned", "banner.assigned", "banner.assigned", "banner.cleared"], events.Select(e => e.RoutingKey));
        var cleared = JsonNode.Parse(events[^1].Body)!;
        Assert.Equal(("offer-banner", 1, "rosa", "home-hero", "ten-percent-off", "expired", "purchase"),
            ((string?)cleared["campaignId"], (int)cleared["step"]!, (string?)cleared["customerId"], (string?)cleared["slot"], (string?)cleared["creative"],
             (string?)cleared["reason"], (string?)cleared["phase"]));
        Assert.Equal(offer.ExpiresAt, (DateTimeOffset)cleared["occurredAt"]!);
        Assert.Equal("free-shipping", await Banner("rosa", "sidebar"));                 // no ttl: stays
    }

    [Fact]
    public async Task A_device_that_logs_in_brings_its_banners_and_is_read_by_either_id()
    {
        Use(BannerRules, stored: true);
        await Consume(E("d-1", "page_viewed", T, null, device: "tablet-7"));
        await Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("award-2026", await Banner("tablet-7"));

        await Consume(E("d-2", "identified", T.AddMinutes(1), "sven", device: "tablet-7"));
        Assert.Equal("award-2026", await Banner("sven"));                      // moved with the merge
        Assert.Equal("award-2026", await Banner("tablet-7"));                  // the device reads its customer's banners

        await Consume(E("d-3", "product_viewed", T.AddMinutes(2), null, device: "tablet-7"));
        await Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("benefits-2026", await Banner("sven"));
        Assert.Equal("benefits-2026", await Banner("tablet-7"));
    }

    [Fact]
    public async Task An_offer_step_issues_a_readable_unguessable_code_once_and_offer_redeemed_marks_it_used()
    {
        Use("""
            campaigns:
              - id: welcome-offer
                trigger: { event: loyalty_joined }
                steps:
                  - action: { kind: offer, discountPercent: 15, validFor: 7d }
            """, stored: true);
        await Consume(E("w-1", "loyalty_joined", T, "tess"), E("w-2", "loyalty_joined", T, "ugo"));
        await Advance(TimeSpan.FromSeconds(1));
        await Advance(TimeSpan.FromSeconds(1));                                    // fired once, not again

        await using var connection = await _database.OpenAsync(default);
        var offers = (await Dapper.SqlMapper.QueryAsync<(string Code, string ProfileId, decimal DiscountPercent, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)>(
            connection, "SELECT code, profile_id, discount_percent, issued_at, expires_at FROM offers ORDER BY profile_id")).ToList();
        Assert.Equal(["c:tess", "c:ugo"], offers.Select(o => o.ProfileId));
        Assert.All(offers, o => Assert.Matches("^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{2,}$", o.Code));
        Assert.NotEqual(offers[0].Code, offers[1].Code);
        Assert.All(offers, o => Assert.Equal((15m, o.IssuedAt.AddDays(7)), (o.DiscountPercent, o.ExpiresAt)));
        var tess = offers[0].Code;
        Assert.Equal("code " + tess, Assert.Single(await Actions("tess")).Reason);
        var issued = (await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT body FROM outbox WHERE routing_key = 'offer.issued'"))
            .Select(b => JsonNode.Parse(b)!).ToList();
        Assert.Equal(offers.Select(o => o.Code).Order(StringComparer.Ordinal), issued.Select(b => (string)b["code"]!).Order(StringComparer.Ordinal));
        Assert.All(issued, b => Assert.Equal(("welcome-offer", 15m), ((string?)b["campaignId"], (decimal)b["discountPercent"]!)));

        // The shop reports the code used (in any case); a second report of it changes nothing.
        await Consume(E("r-1", "offer_redeemed", T.AddHours(1), "tess", new JsonObject { ["code"] = tess.ToLowerInvariant() }));
        await Consume(E("r-2", "offer_redeemed", T.AddHours(2), "tess", new JsonObject { ["code"] = tess }));
        var redeemed = await Dapper.SqlMapper.QuerySingleAsync<(DateTimeOffset? At, string? EventId)>(connection,
            "SELECT redeemed_at, redeemed_event_id FROM offers WHERE code = @tess", new { tess });
        Assert.Equal((T.AddHours(1), "r-1"), (redeemed.At, redeemed.EventId));
        Assert.Equal(1L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT count(*) FROM offers WHERE profile_id = 'c:ugo' AND redeemed_at IS NULL"));
    }

    /// <summary>A receiver that is down once: the channel says "later" the first time (as the webhook channel does).</summary>
    sealed class DownOnceChannel(TimeProvider time) : IActionChannel
    {
        public int Calls;
        public bool Handles(string kind) => kind == "webhook";
        public Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken) =>
            Task.FromResult(Interlocked.Increment(ref Calls) == 1
                ? ChannelResult.Later("webhook unreachable after retries", time.GetUtcNow().AddMinutes(5))
                : ChannelResult.Ok("HTTP 200"));
    }

    [Fact]
    public async Task An_action_whose_receiver_is_down_waits_pending_and_is_delivered_once_it_is_back()
    {
        Use("""
            campaigns:
              - id: crm-sync
                trigger: { event: order_placed }
                transactional: true
                steps:
                  - action: { kind: webhook, url: "http://127.0.0.1:9/hooks", secret: crm }
            """);
        var down = new DownOnceChannel(_time);
        _dispatcher = new ActionDispatcher(_database, _rules, [down, _channel], new DirectJourneyWriter(_store), new ActionMetrics(), _time,
            Options.Create(new SchedulingOptions()), NullLogger<ActionDispatcher>.Instance);
        await Consume(E("o-1", "order_placed", T, "wim", new JsonObject { ["orderId"] = "o-1" }));
        await Advance(TimeSpan.FromSeconds(1));

        var waiting = Assert.Single(await Actions("wim"));
        Assert.Equal(("pending", T.AddSeconds(1).AddMinutes(5)), (waiting.Status, waiting.DueAt));
        Assert.Equal(["scheduled", "due", "deferred"], waiting.Log.Select(l => l.Outcome));
        Assert.Contains("unreachable", waiting.Log[^1].Reason);

        await Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(1, down.Calls);                                                     // not before its new due time
        await Advance(TimeSpan.FromMinutes(1));
        var delivered = Assert.Single(await Actions("wim"));
        Assert.Equal(("delivered", 2), (delivered.Status, down.Calls));
        Assert.Empty(_channel.Delivered);
    }

    /// <summary>A channel whose delivery throws: the first <c>failures</c> times with <paramref name="error"/>, then it delivers.</summary>
    sealed class ThrowingChannel(Func<Exception> error, int failures) : IActionChannel
    {
        public int Calls;
        public bool Handles(string kind) => kind == "webhook";
        public Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref Calls) <= failures ? throw error() : Task.FromResult(ChannelResult.Ok("HTTP 200"));
    }

    const string CrmSync = """
        campaigns:
          - id: crm-sync
            trigger: { event: order_placed }
            transactional: true
            steps:
              - action: { kind: webhook, url: "http://127.0.0.1:9/hooks", secret: crm }
        """;

    [Fact]
    public async Task A_delivery_that_throws_a_passing_error_waits_pending_and_is_delivered_later_not_failed()
    {
        Use(CrmSync);
        // A socket reset, then the database busy (SQLITE_BUSY), then it works.
        var errors = new Queue<Exception>([new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset),
            new SqliteException("database is locked", 5)]);
        var flaky = new ThrowingChannel(() => errors.Dequeue(), failures: 2);
        _dispatcher = new ActionDispatcher(_database, _rules, [flaky, _channel], new DirectJourneyWriter(_store), new ActionMetrics(), _time,
            Options.Create(new SchedulingOptions { RetryAfter = TimeSpan.FromMinutes(2) }), NullLogger<ActionDispatcher>.Instance);
        await Consume(E("o-1", "order_placed", T, "yara", new JsonObject { ["orderId"] = "o-1" }));
        await Advance(TimeSpan.FromSeconds(1));

        var waiting = Assert.Single(await Actions("yara"));
        Assert.Equal(("pending", T.AddSeconds(1).AddMinutes(2)), (waiting.Status, waiting.DueAt));
        Assert.Equal(["scheduled", "due", "deferred"], waiting.Log.Select(l => l.Outcome));
        Assert.Contains("SocketException", waiting.Log[^1].Reason);

        await Advance(TimeSpan.FromMinutes(2));
        waiting = Assert.Single(await Actions("yara"));
        Assert.Equal(("pending", 2), (waiting.Status, flaky.Calls));
        Assert.Contains("SqliteException", waiting.Log[^1].Reason);

        await Advance(TimeSpan.FromMinutes(2));
        var delivered = Assert.Single(await Actions("yara"));
        Assert.Equal(("delivered", 3), (delivered.Status, flaky.Calls));
        Assert.Equal(["scheduled", "due", "deferred", "due", "deferred", "due", "delivered"], delivered.Log.Select(l => l.Outcome));
    }

    [Fact]
    public async Task A_delivery_that_throws_a_bug_fails_for_good_and_is_not_tried_again()
    {
        Use(CrmSync);
        var broken = new ThrowingChannel(() => new InvalidOperationException("the receiver's settings are broken"), failures: int.MaxValue);
        _dispatcher = new ActionDispatcher(_database, _rules, [broken, _channel], new DirectJourneyWriter(_store), new ActionMetrics(), _time,
            Options.Create(new SchedulingOptions()), NullLogger<ActionDispatcher>.Instance);
        await Consume(E("o-1", "order_placed", T, "zeno", new JsonObject { ["orderId"] = "o-1" }));
        await Advance(TimeSpan.FromSeconds(1));

        var failed = Assert.Single(await Actions("zeno"));
        Assert.Equal("failed", failed.Status);
        Assert.Equal("InvalidOperationException: the receiver's settings are broken", failed.Reason);
        await Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, broken.Calls);
    }

    [Fact]
    public async Task An_email_that_cannot_be_sent_is_recorded_failed_and_announced_as_email_failed()
    {
        Use("""
            campaigns:
              - id: order-confirmation
                trigger: { event: order_placed }
                transactional: true
                steps:
                  - action: { kind: email, template: order-confirmation }
            """);
        var email = new Infrastructure.Channels.Email.EmailChannel(_database,
            Infrastructure.Channels.Email.EmailTemplates.Load(Path.Combine(TestServers.RepositoryRoot, "templates"), "en"),
            Options.Create(new Infrastructure.Channels.Email.EmailOptions()), _time, Infrastructure.Resilience.ResiliencePipelines.Standalone(_time));
        _dispatcher = new ActionDispatcher(_database, _rules, [email, _channel], new DirectJourneyWriter(_store), new ActionMetrics(), _time,
            Options.Create(new SchedulingOptions()), NullLogger<ActionDispatcher>.Instance);
        await Consume(E("o-1", "order_placed", T, "xena", new JsonObject { ["orderId"] = "o-1" }));   // no email address known
        await Advance(TimeSpan.FromSeconds(1));

        var failed = Assert.Single(await Actions("xena"));
        Assert.Equal(("failed", "no valid email address in the customer's traits"), (failed.Status, failed.Reason));
        await using var connection = await _database.OpenAsync(default);
        var body = JsonNode.Parse(await Dapper.SqlMapper.QuerySingleAsync<string>(connection, "SELECT body FROM outbox WHERE routing_key = 'email.failed'"))!;
        Assert.Equal((failed.ActionId, "order-confirmation", "no valid email address in the customer's traits"),
            ((string?)body["actionId"], (string?)body["template"], (string?)body["reason"]));
    }

    const string RetargetingRules = """
        campaigns:
          - id: cart-retargeting
            trigger: { event: cart_abandoned }
            key: properties.cartId
            exitOn: [order_placed]
            steps:
              - action: { kind: retargeting, audience: cart-abandoners }
        """;

    async Task<List<(string RoutingKey, JsonNode Body)>> Outbound(string routingKeyPrefix)
    {
        await using var connection = await _database.OpenAsync(default);
        return (await Dapper.SqlMapper.QueryAsync<(string RoutingKey, string Body)>(connection,
                "SELECT routing_key, body FROM outbox WHERE routing_key LIKE @p ORDER BY seq", new { p = routingKeyPrefix + "%" }))
            .Select(r => (r.RoutingKey, JsonNode.Parse(r.Body)!)).ToList();
    }

    async Task<List<(string Audience, string ProfileId, string EmailSha256)>> Members()
    {
        await using var connection = await _database.OpenAsync(default);
        return (await Dapper.SqlMapper.QueryAsync<(string, string, string)>(connection, "SELECT audience, profile_id, email_sha256 FROM audience_members ORDER BY profile_id")).ToList();
    }

    [Fact]
    public async Task An_abandoner_joins_the_audience_by_hashed_email_and_leaves_it_when_the_order_comes()
    {
        Use(RetargetingRules, stored: true);
        var traits = new JsonObject { ["email"] = "  Yara@Example.COM ", ["emailConsent"] = true };
        await Consume(E("c-1", "cart_abandoned", T, "yara", Cart("cart-1"), traits));
        await Advance(TimeSpan.FromSeconds(1));

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("yara@example.com"u8.ToArray()));
        Assert.Equal([("cart-abandoners", "c:yara", hash)], await Members());
        var joined = Assert.Single(await Outbound("retargeting."));
        Assert.Equal(("retargeting.joined", "cart-abandoners", hash), (joined.RoutingKey, (string?)joined.Body["audience"], (string?)joined.Body["emailSha256"]));
        Assert.DoesNotContain("example", joined.Body.ToJsonString(), StringComparison.OrdinalIgnoreCase);   // never the address

        await Consume(E("o-1", "order_placed", T.AddMinutes(30), "yara", new JsonObject { ["orderId"] = "o-1" }));
        await Advance(TimeSpan.FromMinutes(31));
        Assert.Empty(await Members());
        var left = (await Outbound("retargeting.")).Last();
        Assert.Equal(("retargeting.left", "exit", hash), (left.RoutingKey, (string?)left.Body["reason"], (string?)left.Body["emailSha256"]));
    }

    [Fact]
    public async Task Without_consent_or_after_a_recent_order_nobody_joins_and_memberships_expire()
    {
        Use(RetargetingRules, stored: true);
        await Consume(E("c-1", "cart_abandoned", T, "zeno", Cart("cart-1"), new JsonObject { ["email"] = "zeno@example.com" }));   // no consent
        await Consume(E("o-1", "order_placed", T.AddDays(-3), "abel", new JsonObject { ["orderId"] = "o-1" }),
            E("c-2", "cart_abandoned", T, "abel", Cart("cart-2"), new JsonObject { ["email"] = "abel@example.com", ["emailConsent"] = true }));
        await Consume(E("c-3", "cart_abandoned", T, "bo", Cart("cart-3"), new JsonObject { ["email"] = "bo@example.com", ["adConsent"] = true }));
        await Advance(TimeSpan.FromSeconds(1));

        Assert.Contains("no consent", Assert.Single(await Actions("zeno")).Reason);
        Assert.Equal("suppressed", Assert.Single(await Actions("zeno")).Status);
        Assert.Contains("ordered within 14 days", Assert.Single(await Actions("abel")).Reason);
        Assert.Equal(["c:bo"], (await Members()).Select(m => m.ProfileId));

        var sweeper = new AudienceSweeper(_database, _time, new Infrastructure.Messaging.OutboxSignal(), Options.Create(new RetargetingOptions()), NullLogger<AudienceSweeper>.Instance);
        await Advance(TimeSpan.FromDays(29));
        Assert.Equal(0, await sweeper.SweepAsync(default));
        await Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await sweeper.SweepAsync(default));
        Assert.Empty(await Members());
        Assert.Equal("expired", (string?)(await Outbound("retargeting.left")).Single().Body["reason"]);
    }

    [Fact]
    public async Task A_device_that_logs_in_brings_its_pending_steps_and_the_customers_purchase_cancels_them()
    {
        Use(CartRules);
        await Consume(E("c-1", "cart_abandoned", T, null, Cart("cart-1"), Consent(), device: "phone-1"));
        await Consume(E("i-1", "identified", T.AddMinutes(5), "lena", device: "phone-1"));
        Assert.Equal(3, (await Actions("lena")).Count(a => a.Status == "pending"));
        await Consume(E("o-1", "order_placed", T.AddMinutes(20), "lena", new JsonObject { ["orderId"] = "o-1" }));
        Assert.All(await Actions("lena"), a => Assert.Equal("cancelled", a.Status));
    }

    TriggerScans Scans() => new(_database, _rules, _time, NullLogger<TriggerScans>.Instance);

    [Fact]
    public async Task Inactivity_is_found_by_the_scan_once_per_quiet_period_and_activity_ends_what_it_started()
    {
        Use("""
            campaigns:
              - id: win-back
                trigger: { inactiveFor: 60d, inPhase: purchase }
                reentry: { after: 1d }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: we-miss-you }
                  - delay: 7d
                    action: { kind: banner, slot: home-hero, creative: last-chance }
            """);
        await Consume(E("o-1", "order_placed", T, "nora"), E("v-1", "product_viewed", T, "otto"), E("o-2", "order_placed", T.AddDays(10), "piet"));
        var scans = Scans();
        Assert.Equal(0, await scans.ScanInactivityAsync(default));

        await Advance(TimeSpan.FromDays(60));
        Assert.Equal(2, await scans.ScanInactivityAsync(default));            // nora, 60 days quiet; otto is not in purchase
        Assert.Equal(0, await scans.ScanInactivityAsync(default));            // the same quiet period is not found twice
        await Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["nora"], _channel.Delivered.Select(d => d.CustomerId));
        Assert.Empty(await Actions("otto"));

        // Nora comes back: the pending second step ends. Piet goes quiet later and is found then.
        await Consume(E("v-2", "product_viewed", T.AddDays(61), "nora"));
        var last = (await Actions("nora")).Single(a => a.Step == 2);
        Assert.Equal(("cancelled", "v-2"), (last.Status, last.CauseEventId));
        await Advance(TimeSpan.FromDays(10));
        Assert.Equal(2, await scans.ScanInactivityAsync(default));
        Assert.Equal(2, (await Actions("piet")).Count);
    }

    [Fact]
    public async Task Actions_and_their_log_written_before_the_reindexing_upgrade_keep_their_life_and_their_dedup()
    {
        var connectionString = await CreateDatabaseAsync();
        try
        {
            // A pending and a cancelled step as the release before migration 0005 stored them (no seq on the log).
            using (var old = new Database(Provider, connectionString))
            {
                await new SchemaMigrator(old, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default, upTo: "0004_seen_hour");
                await using var connection = await old.OpenAsync(default);
                await Dapper.SqlMapper.ExecuteAsync(connection, """
                    INSERT INTO scheduled_actions (action_id, campaign_id, step, profile_id, instance_key, trigger_id, triggered_at, cause, kind, channel, settings,
                        variant, holdout, transactional, priority, rules_version, fingerprint, planned_at, due_at, status, finished_at, reason, cause_event_id, created_at)
                    VALUES ('a-1', 'cart-recovery', 1, 'c:anna', 'cart-9', 'c-1', '2026-11-02 09:00:00', 'event cart_abandoned', 'email', 'email', '{"template":"cart-reminder"}',
                            0, false, false, 0, 'v0', 'f0', '2026-11-02 10:00:00', '2026-11-02 10:00:00', 'pending', NULL, NULL, NULL, '2026-11-02 09:00:00'),
                           ('a-2', 'cart-recovery', 2, 'c:anna', 'cart-9', 'c-1', '2026-11-02 09:00:00', 'event cart_abandoned', 'retargeting', 'retargeting', '{}',
                            0, false, false, 0, 'v0', 'f0', '2026-11-02 11:00:00', '2026-11-02 11:00:00', 'cancelled', '2026-11-02 09:30:00', 'exit: order_placed', 'o-0', '2026-11-02 09:00:00');
                    INSERT INTO action_log (action_id, campaign_id, step, profile_id, kind, outcome, at, due_at, next_due_at, reason, cause_event_id, rules_version, variant, late_ms)
                    VALUES ('a-2', 'cart-recovery', 2, 'c:anna', 'retargeting', 'cancelled', '2026-11-02 09:30:00', '2026-11-02 11:00:00', NULL, 'exit: order_placed', 'o-0', 'v0', 0, NULL);
                    """);
            }

            using var upgraded = new Database(Provider, connectionString);
            await new SchemaMigrator(upgraded, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
            var actions = (await new ActionStore(upgraded, NullLogger.Instance).ForProfileAsync("c:anna", 100, default)).OrderBy(a => a.Step).ToList();
            Assert.Equal(["a-1", "a-2"], actions.Select(a => a.ActionId));
            Assert.Equal(["scheduled"], actions[0].Log.Select(l => l.Outcome));
            Assert.Equal(["scheduled", "cancelled"], actions[1].Log.Select(l => l.Outcome));
            Assert.Equal("o-0", actions[1].Log[1].CauseEventId);

            // The same step planned again is still recognised; a new one is added beside it.
            await using var connection2 = await upgraded.OpenAsync(default);
            var insert = "INSERT INTO scheduled_actions (action_id, campaign_id, step, profile_id, trigger_id, triggered_at, cause, kind, channel, settings, variant, holdout, " +
                "transactional, priority, rules_version, fingerprint, planned_at, due_at, status, created_at) VALUES (@id, 'cart-recovery', 1, 'c:anna', 'c-1', @t, 'x', 'email', " +
                $"'email', '{{}}', 0, false, false, 0, 'v1', 'f1', @t, @t, 'pending', @t) {ActionStore.Conflict}";
            Assert.Equal(0, await Dapper.SqlMapper.ExecuteAsync(connection2, insert, new { id = "a-1", t = T }));
            Assert.Equal(1, await Dapper.SqlMapper.ExecuteAsync(connection2, insert, new { id = "a-3", t = T }));
        }
        finally
        {
            await DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task Inactivity_within_the_cutoffs_own_hour_is_found_when_it_is_long_enough_and_only_once()
    {
        // The scan reads customers by the hour of their last activity; the cutoff's own hour is read again by the
        // next scan. Ada was last seen at 9:10 (after two visits in that hour), Bo at 9:40, Cas at 11:05.
        Use("""
            campaigns:
              - id: nudge
                trigger: { inactiveFor: 1d }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: come-back }
            """);
        await Consume(E("a-1", "product_viewed", T, "ada"), E("a-2", "product_viewed", T.AddMinutes(10), "ada"),
            E("b-1", "product_viewed", T.AddMinutes(40), "bo"), E("c-1", "product_viewed", T.AddHours(2).AddMinutes(5), "cas"));
        var scans = Scans();

        _time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(20));            // cutoff 9:20
        Assert.Equal(1, await scans.ScanInactivityAsync(default));
        Assert.Equal(T.AddMinutes(10).AddDays(1), Assert.Single(await Actions("ada")).DueAt);   // from her last visit, not the first
        Assert.Empty(await Actions("bo"));

        _time.Advance(TimeSpan.FromMinutes(10));                                    // cutoff 9:30: nobody new
        Assert.Equal(0, await scans.ScanInactivityAsync(default));
        _time.Advance(TimeSpan.FromMinutes(15));                                    // cutoff 9:45: Bo
        Assert.Equal(1, await scans.ScanInactivityAsync(default));
        Assert.Single(await Actions("bo"));
        _time.Advance(TimeSpan.FromHours(2));                                       // cutoff 11:45: Cas, in a later hour
        Assert.Equal(1, await scans.ScanInactivityAsync(default));
        Assert.Single(await Actions("cas"));
        Assert.Single(await Actions("ada"));
        Assert.Single(await Actions("bo"));
    }

    [Fact]
    public async Task A_schedule_starts_its_campaign_for_the_segment_at_each_firing_once()
    {
        Use("""
            campaigns:
              - id: digest
                trigger: { schedule: "0 0 9 ? * MON", segment: { all: [ { field: phase, op: eq, value: loyalty } ] } }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: digest }
            """);
        await Consume(E("o-1", "order_placed", T, "quinn"), E("o-2", "order_placed", T.AddMinutes(1), "quinn"), E("o-3", "order_placed", T, "rosa"));
        var scans = Scans();
        var monday = new DateTimeOffset(2026, 11, 9, 8, 0, 0, TimeSpan.Zero);
        Assert.Equal(1, await scans.RunScheduleAsync("digest", monday, default));
        Assert.Equal(0, await scans.RunScheduleAsync("digest", monday, default)); // the same firing again (recovery) adds nothing
        Assert.Equal(1, await scans.RunScheduleAsync("digest", monday.AddDays(7), default));
        Assert.Equal(2, (await Actions("quinn")).Count);
        Assert.Empty(await Actions("rosa"));
        Assert.Equal(0, await scans.RunScheduleAsync("no-such-campaign", monday, default));
    }

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
        var dispatcher = new ActionDispatcher(_database, _rules, [gate], new DirectJourneyWriter(_store), new ActionMetrics(), _time,
            Options.Create(new SchedulingOptions()), NullLogger<ActionDispatcher>.Instance);
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

public sealed class SqliteCampaignSchedulingTests : CampaignSchedulingTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;

    protected override Task<string> CreateDatabaseAsync() =>
        Task.FromResult($"Data Source={Path.Combine(Directory.CreateTempSubdirectory("co-campaign-").FullName, "c.db")}");

    protected override Task DropDatabaseAsync(string connectionString)
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(new SqliteConnectionStringBuilder(connectionString).DataSource)!, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class PostgresCampaignSchedulingTests : CampaignSchedulingTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;

    protected override Task<string> CreateDatabaseAsync() => TestServers.CreatePostgresDatabaseAsync();

    protected override Task DropDatabaseAsync(string connectionString) => TestServers.DropPostgresDatabaseAsync(connectionString);
}
