using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>What the channels keep and announce of a delivery (banners, offers, audiences, email), and how a failing one is recorded.</summary>
public abstract class ChannelOutcomeTests : CampaignTestContext
{
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

        // Due at once: delivered in the transaction that stored the event, so the very next page shows it (no dispatcher round).
        await Consume(E("b-1", "page_viewed", T, "rosa"));
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
        var sweeper = new PlacementSweeper(_database, _queries, _time, new Infrastructure.Messaging.OutboxSignal(), NullLogger<PlacementSweeper>.Instance);
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

        // Ugo's code used after its 7 days: refused, the offer stays unused; a code nobody was given marks nothing.
        var ugo = offers[1].Code;
        await Consume(E("r-3", "offer_redeemed", T.AddDays(8), "ugo", new JsonObject { ["code"] = ugo }),
            E("r-4", "offer_redeemed", T.AddDays(8), "ugo", new JsonObject { ["code"] = "NOPE-NOPE-22" }));
        Assert.Equal(1L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT count(*) FROM offers WHERE profile_id = 'c:ugo' AND redeemed_at IS NULL"));

        // The timeline says what became of each redemption.
        var reader = new CampaignOrchestrator.Infrastructure.Storage.JourneyReader(_database);
        string? Note(CampaignOrchestrator.Infrastructure.Storage.JourneyView journey, string eventId) => journey.Timeline.Single(t => t.EventId == eventId).Note;
        var tessJourney = (await reader.GetAsync("tess", 100, default))!;
        Assert.Equal($"offer {tess} used", Note(tessJourney, "r-1"));
        Assert.Equal($"refused: offer {tess} already used (event r-1)", Note(tessJourney, "r-2"));
        var ugoJourney = (await reader.GetAsync("ugo", 100, default))!;
        Assert.Equal($"refused: offer {ugo} expired at {offers[1].ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC", Note(ugoJourney, "r-3"));
        Assert.Equal("unknown offer code NOPE-NOPE-22: nothing marked used", Note(ugoJourney, "r-4"));
        Assert.Null(Note(ugoJourney, "w-2"));
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
        _dispatcher = TestDispatcher.Build(_database, _rules, [down, _channel], _store, _time);
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
        _dispatcher = TestDispatcher.Build(_database, _rules, [flaky, _channel], _store, _time, new SchedulingOptions { RetryAfter = TimeSpan.FromMinutes(2) });
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
        _dispatcher = TestDispatcher.Build(_database, _rules, [broken, _channel], _store, _time);
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
        Use(TestRules.OrderConfirmation);
        var email = new Infrastructure.Channels.Email.EmailChannel(_database,
            Infrastructure.Channels.Email.EmailTemplates.Load(Path.Combine(TestServers.RepositoryRoot, "templates"), "en"),
            Options.Create(new Infrastructure.Channels.Email.EmailOptions()), _time, Infrastructure.Channels.ChannelPipelines.Standalone(_time));
        _dispatcher = TestDispatcher.Build(_database, _rules, [email, _channel], _store, _time);
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
}

public sealed class SqliteChannelOutcomeTests : ChannelOutcomeTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresChannelOutcomeTests : ChannelOutcomeTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
