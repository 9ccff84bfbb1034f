using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Tests;

public class CampaignPlannerTests
{
    static readonly DateTimeOffset T = new(2026, 3, 28, 20, 30, 0, TimeSpan.Zero); // Saturday 21:30 in Amsterdam, the night clocks go forward
    static readonly TimeZoneInfo Amsterdam = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    static Campaign Parse(string campaignYaml, string defaults = "") =>
        RulesParser.Parse(defaults + "campaigns:\n" + campaignYaml, "t.yaml").Campaigns.Single();

    static RuleDefaults Defaults(string yaml = "") => RulesParser.Parse(yaml.TrimEnd() + "\ncampaigns: []\n", "t.yaml").Defaults;

    static CustomerState Customer(string id = "anna", JsonObject? traits = null, int orders = 0) =>
        new("c:" + id, id, (traits ?? []).ToDictionary(kv => kv.Key, kv => kv.Value), Phase.Purchase, orders, 0);

    static TriggerOccurrence Trigger(string id = "e-1", DateTimeOffset? at = null, JsonObject? properties = null) =>
        new(id, "event cart_abandoned", at ?? T, properties, null);

    [Fact]
    public void Each_delay_counts_from_the_previous_step_and_at_waits_for_the_local_time_across_DST()
    {
        var campaign = Parse("""
              - id: c
                trigger: { event: cart_abandoned }
                steps:
                  - delay: 1h
                    action: { kind: email, template: a }
                  - delay: 2h
                    at: "02:30"
                    action: { kind: email, template: b }
                  - delay: 1d
                    action: { kind: email, template: c }
            """);
        var plan = CampaignPlanner.Plan(campaign, Trigger(), Customer(), Defaults("defaults: { timeZone: Europe/Amsterdam }\n"), []).Plan!;
        // 21:30 + 1 h = 22:30; + 2 h = 00:30 (29 March), then the next 02:30, which the clocks skip: 03:00 CEST = 01:00 UTC.
        Assert.Equal([T.AddHours(1), new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 30, 1, 0, 0, TimeSpan.Zero)],
            plan.Actions.Select(a => a.DueAt));
    }

    [Fact]
    public void The_customers_own_time_zone_wins_over_the_default()
    {
        var campaign = Parse("""
              - id: c
                trigger: { event: cart_abandoned }
                steps:
                  - at: "09:00"
                    action: { kind: email, template: a }
            """);
        var traits = new JsonObject { ["timeZone"] = "America/New_York" };
        var due = CampaignPlanner.Plan(campaign, Trigger(), Customer(traits: traits), Defaults("defaults: { timeZone: Europe/Amsterdam }\n"), []).Plan!.Actions[0].DueAt;
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 13, 0, 0, TimeSpan.Zero), due); // 09:00 EDT
        Assert.Equal(CampaignPlanner.ZoneOf(new Dictionary<string, JsonNode?> { ["timeZone"] = "Not/AZone" }, Defaults("defaults: { timeZone: Europe/Amsterdam }\n")).Id,
            Amsterdam.Id);
    }

    [Fact]
    public void Unmet_conditions_and_reentry_say_why_nothing_starts()
    {
        var campaign = Parse("""
              - id: c
                trigger: { event: cart_abandoned }
                conditions: { all: [ { field: orders.count, op: gte, value: 1 } ] }
                reentry: { after: 7d }
                steps:
                  - action: { kind: email, template: a }
            """);
        Assert.Equal("conditions not met: orders.count gte 1 (it is 0)", CampaignPlanner.Plan(campaign, Trigger(), Customer(orders: 0), Defaults(), []).SkipReason);
        Assert.NotNull(CampaignPlanner.Plan(campaign, Trigger(), Customer(orders: 1), Defaults(), [T.AddDays(-8)]).Plan);
        Assert.StartsWith("re-entry", CampaignPlanner.Plan(campaign, Trigger(), Customer(orders: 1), Defaults(), [T.AddDays(-6)]).SkipReason);

        var once = Parse("""
              - id: once
                trigger: { event: cart_abandoned }
                steps:
                  - action: { kind: email, template: a }
            """);
        Assert.Contains("once per customer", CampaignPlanner.Plan(once, Trigger(), Customer(), Defaults(), [T.AddYears(-3)]).SkipReason);
    }

    [Fact]
    public void Ids_are_stable_and_distinct_per_campaign_step_customer_and_trigger()
    {
        var campaign = Parse("""
              - id: c
                trigger: { event: cart_abandoned }
                key: properties.cartId
                steps:
                  - action: { kind: email, template: a }
                  - delay: 1h
                    action: { kind: email, template: b }
            """);
        var props = new JsonObject { ["cartId"] = "cart-9" };
        var a = CampaignPlanner.Plan(campaign, Trigger(properties: props), Customer(), Defaults(), []).Plan!;
        var again = CampaignPlanner.Plan(campaign, Trigger(properties: (JsonObject)props.DeepClone()), Customer(), Defaults(), []).Plan!;
        var other = CampaignPlanner.Plan(campaign, Trigger("e-2", properties: props), Customer(), Defaults(), []).Plan!;
        Assert.Equal(a.Actions.Select(x => x.ActionId), again.Actions.Select(x => x.ActionId));
        Assert.NotEqual(a.Actions[0].ActionId, a.Actions[1].ActionId);
        Assert.Empty(a.Actions.Select(x => x.ActionId).Intersect(other.Actions.Select(x => x.ActionId)));
        Assert.Equal("cart-9", a.InstanceKey);
    }

    [Fact]
    public void Holdout_and_variants_follow_the_shares_and_never_change_for_a_customer()
    {
        var campaign = Parse("""
              - id: ab
                trigger: { event: cart_abandoned }
                holdout: 10%
                steps:
                  - variants:
                      - { weight: 70, action: { kind: email, template: a } }
                      - { weight: 30, action: { kind: email, template: b } }
            """);
        var plans = Enumerable.Range(0, 10_000).Select(i => CampaignPlanner.Plan(campaign, Trigger(), Customer($"cust-{i}"), Defaults(), []).Plan!).ToList();
        Assert.InRange(plans.Count(p => p.Holdout), 850, 1150);
        Assert.InRange(plans.Count(p => p.Actions[0].Variant == 1), 2700, 3300);
        for (var i = 0; i < 10_000; i += 997)
        {
            var again = CampaignPlanner.Plan(campaign, Trigger("other-event", T.AddDays(40)), Customer($"cust-{i}"), Defaults(), []).Plan!;
            Assert.Equal(plans[i].Holdout, again.Holdout);
            Assert.Equal(plans[i].Actions[0].Variant, again.Actions[0].Variant);
        }
    }
}

public class SendPolicyTests
{
    static readonly DateTimeOffset Noon = new(2026, 11, 2, 11, 0, 0, TimeSpan.Zero); // 12:00 in Amsterdam
    static readonly Dictionary<string, JsonNode?> WithConsent = new() { ["emailConsent"] = true };
    static readonly Dictionary<string, JsonNode?> NoTraits = [];
    static readonly DateTimeOffset[] NoSends = [];

    static RuleDefaults Defaults(string yaml) => RulesParser.Parse(yaml.TrimEnd() + "\ncampaigns: []\n", "t.yaml").Defaults;

    [Fact]
    public void Holdout_consent_window_and_cap_in_that_order_and_transactional_ignores_all_but_holdout()
    {
        var defaults = Defaults("""
            defaults:
              timeZone: Europe/Amsterdam
              sendWindow: { from: "08:00", to: "21:00" }
              frequencyCap: { channel: email, max: 2, per: 7d }
            """);
        var night = new DateTimeOffset(2026, 11, 2, 22, 0, 0, TimeSpan.Zero); // 23:00 local
        var full = new[] { Noon.AddDays(-1), Noon.AddDays(-2) };

        Assert.Equal("holdout", SendPolicy.Decide("email", true, true, WithConsent, defaults, NoSends, Noon).Reason);
        Assert.Equal(DueVerdict.Deliver, SendPolicy.Decide("email", false, true, NoTraits, defaults, full, night).Verdict);
        Assert.Equal("consent", SendPolicy.Decide("email", false, false, new Dictionary<string, JsonNode?> { ["emailConsent"] = "yes" }, defaults, NoSends, Noon).Reason);
        Assert.Equal(DueVerdict.Deliver, SendPolicy.Decide("banner", false, false, NoTraits, defaults, NoSends, Noon).Verdict);

        var window = SendPolicy.Decide("email", false, false, WithConsent, defaults, NoSends, night);
        Assert.Equal((DueVerdict.Defer, "window"), (window.Verdict, window.Reason));
        Assert.Equal(new DateTimeOffset(2026, 11, 3, 7, 0, 0, TimeSpan.Zero), window.Until);

        var cap = SendPolicy.Decide("email", false, false, WithConsent, defaults, full, Noon);
        Assert.Equal(DueVerdict.Defer, cap.Verdict);
        Assert.Equal(Noon.AddDays(-2).AddDays(7), cap.Until); // when the older send leaves the rolling window
        Assert.Equal(DueVerdict.Deliver, SendPolicy.Decide("email", false, false, WithConsent, defaults, [Noon.AddDays(-8), Noon.AddDays(-1)], Noon).Verdict);
    }

    [Fact]
    public void Only_messages_wait_for_the_window_and_an_offer_sent_with_a_template_is_an_email()
    {
        var defaults = Defaults("defaults:\n  timeZone: Europe/Amsterdam\n  sendWindow: { from: \"08:00\", to: \"21:00\" }\n");
        var night = new DateTimeOffset(2026, 11, 2, 22, 0, 0, TimeSpan.Zero);
        Assert.Equal(DueVerdict.Deliver, SendPolicy.Decide("banner", false, false, NoTraits, defaults, NoSends, night).Verdict);
        Assert.Equal(DueVerdict.Deliver, SendPolicy.Decide("retargeting", false, false, NoTraits, defaults, NoSends, night).Verdict);
        Assert.Equal("email", SendPolicy.ChannelOf(new RuleAction("offer", new Dictionary<string, string> { ["discountPercent"] = "10", ["template"] = "cart-offer" })));
        Assert.Equal("offer", SendPolicy.ChannelOf(new RuleAction("offer", new Dictionary<string, string> { ["discountPercent"] = "10" })));
    }

    [Fact]
    public void A_cap_that_skips_suppresses_instead_of_deferring()
    {
        var defaults = Defaults("defaults:\n  frequencyCap: { channel: email, max: 1, per: 1d, onCap: skip }\n");
        var d = SendPolicy.Decide("email", false, false, WithConsent, defaults, [Noon.AddHours(-1)], Noon);
        Assert.Equal(DueVerdict.Suppress, d.Verdict);
        Assert.StartsWith("cap", d.Reason);
    }

    [Theory]
    [InlineData("cart-recovery", 1, "c:anna", "e-1")]
    [InlineData("ünïcödé-campaign", 12, "a:device-€-42", "derived-0f3a")]
    [InlineData("long", 3, "c:", "")]
    public void Action_ids_and_buckets_are_the_stored_ones_whatever_the_ids(string campaignId, int step, string profileId, string triggerId)
    {
        // Ids already stored must stay what they were: SHA-256 over the parts joined by newlines, the first 32 hex digits.
        if (campaignId == "long")
            (profileId, triggerId) = (profileId + new string('x', 700), "t-" + new string('é', 300));
        static byte[] Sha(params string[] parts) =>
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', parts)));
        var stepText = step.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Convert.ToHexStringLower(Sha(campaignId, stepText, profileId, triggerId))[..32], CampaignPlanner.ActionId(campaignId, step, profileId, triggerId));
        Assert.Equal(BitConverter.ToUInt64(Sha(campaignId, "holdout", profileId), 0) / 18446744073709551616.0,
            CampaignPlanner.Bucket(campaignId, "holdout", profileId));
    }
}
