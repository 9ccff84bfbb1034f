using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>What a due action passes before it is delivered: the send window, consent, frequency caps with priority, holdout and variants.</summary>
public abstract class SendPolicyTests : CampaignTestContext
{
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
                      - { weight: 25, action: { kind: banner, slot: home-hero, creative: b } }
                      - { weight: 25, action: { kind: banner, slot: home-hero, creative: c } }
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
        // Each variant counted on its own (not the first against the rest), the holdout apart.
        var sent = 800 - step.Holdout;
        Assert.Equal([0, 1, 2], step.Variants.Keys.Order());
        Assert.Equal(sent, step.Variants.Values.Sum());
        Assert.InRange(step.Variants[0], sent * 0.35, sent * 0.65);
        Assert.InRange(step.Variants[1], sent * 0.12, sent * 0.38);
        Assert.InRange(step.Variants[2], sent * 0.12, sent * 0.38);
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
}

public sealed class SqliteSendPolicyTests : SendPolicyTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresSendPolicyTests : SendPolicyTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
