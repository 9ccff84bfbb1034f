using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Tests;

public sealed class RulesParserTests
{
    // The example of spec/rules.md, as a marketer would write it.
    const string SpecExample = """
        phaseModel: five-phase
        phases:
          consideration: [product_viewed, product_compared, size_guide_opened]
        defaults:
          timeZone: Europe/Amsterdam
          sendWindow: { from: "08:00", to: "21:00" }
          frequencyCap: { channel: email, max: 3, per: 7d }
        campaigns:
          - id: cart-recovery
            description: Win back shoppers who left a full cart
            trigger: { event: cart_abandoned }
            key: properties.cartId
            conditions:
              all:
                - { field: properties.cartValue, op: gte, value: 25 }
                - { field: traits.emailConsent, op: eq, value: true }
            exitOn: [order_placed]
            reentry: { after: 30d }
            holdout: 10%
            steps:
              - delay: 1h
                action: { kind: email, template: cart-reminder }
              - delay: 1h
                action: { kind: retargeting, audience: cart-abandoners }
              - delay: 24h
                action: { kind: offer, discountPercent: 10, validFor: 72h, template: cart-offer }

          - id: order-confirmation
            trigger: { event: order_placed }
            transactional: true
            steps:
              - action: { kind: email, template: order-confirmation }

          - id: award-banner
            trigger: { phaseEntered: awareness }
            steps:
              - action: { kind: banner, slot: home-hero, creative: award-2026, ttl: 14d }

          - id: win-back
            trigger: { inactiveFor: 60d, inPhase: retention }
            steps:
              - action: { kind: email, template: we-miss-you }

          - id: monday-loyalty-digest
            trigger: { schedule: "0 0 9 ? * MON", segment: { all: [ { field: phase, op: eq, value: loyalty } ] } }
            steps:
              - action: { kind: email, template: loyalty-digest }
        """;

    [Fact]
    public void The_spec_example_parses_into_what_it_says()
    {
        var rules = RulesParser.Parse(SpecExample, "rules/example.yaml");

        Assert.Equal("Europe/Amsterdam", rules.Defaults.TimeZone.Id);
        Assert.Equal(new SendWindow(new TimeOnly(8, 0), new TimeOnly(21, 0)), rules.Defaults.SendWindow);
        Assert.Equal(new FrequencyCap("email", 3, TimeSpan.FromDays(7), CapBehaviour.Defer), Assert.Single(rules.Defaults.FrequencyCaps));
        Assert.Equal(Phase.Consideration, rules.PhaseModel.Map("size_guide_opened"));
        Assert.Equal(["cart-recovery", "order-confirmation", "award-banner", "win-back", "monday-loyalty-digest"], rules.Campaigns.Select(c => c.Id));

        var cart = rules.Campaigns[0];
        Assert.Equal(new EventTrigger("cart_abandoned"), cart.Trigger);
        Assert.Equal("properties.cartId", cart.Key);
        var all = Assert.IsType<AllCondition>(cart.Conditions);
        var value = Assert.IsType<Comparison>(all.Parts[0]);
        Assert.Equal(("properties.cartValue", ComparisonOp.Gte, 25m), (value.Field, value.Op, value.Value!.GetValue<decimal>()));
        Assert.True(Assert.IsType<Comparison>(all.Parts[1]).Value!.GetValue<bool>());
        Assert.Equal(["order_placed"], cart.ExitOn);
        Assert.Equal(TimeSpan.FromDays(30), cart.ReentryAfter);
        Assert.Equal(0.10, cart.HoldoutShare, 6);
        Assert.Equal([TimeSpan.FromHours(1), TimeSpan.FromHours(1), TimeSpan.FromHours(24)], cart.Steps.Select(s => s.Delay));
        Assert.Equal(["email", "retargeting", "offer"], cart.Steps.Select(s => Assert.Single(s.Variants).Action.Kind));
        Assert.Equal("10", cart.Steps[2].Variants[0].Action.Settings["discountPercent"]);

        Assert.True(rules.Campaigns[1].Transactional);
        Assert.Equal(new PhaseEnteredTrigger(Phase.Awareness), rules.Campaigns[2].Trigger);
        Assert.Equal(new InactivityTrigger(TimeSpan.FromDays(60), Phase.Retention), rules.Campaigns[3].Trigger);
        var schedule = Assert.IsType<ScheduleTrigger>(rules.Campaigns[4].Trigger);
        Assert.Equal("0 0 9 ? * MON", schedule.Cron);
        Assert.Equal("loyalty", Assert.IsType<Comparison>(Assert.IsType<AllCondition>(schedule.Segment).Parts[0]).Value!.GetValue<string>());
    }

    [Fact]
    public void An_unknown_op_is_refused_with_file_line_column_campaign_and_the_allowed_ops()
    {
        var yaml = SpecExample.Replace("op: gte", "op: greater");
        var ex = Assert.Throws<RulesRejectedException>(() => RulesParser.Parse(yaml, "rules/default.yaml"));
        var error = Assert.Single(ex.Errors);
        Assert.Equal("rules/default.yaml:15:46 campaign 'cart-recovery': unknown op 'greater'; use one of eq, ne, gt, gte, lt, lte, in, notIn, contains, exists",
            error.ToString());
    }

    [Fact]
    public void A_campaign_has_a_goal_and_a_file_named_segments()
    {
        var rules = RulesParser.Parse("""
            segments:
              runners: { field: traits.persona, op: eq, value: runner }
              big-spenders:
                all:
                  - { field: orders.total, op: gte, value: 500 }
            campaigns:
              - id: review-ask
                trigger: { event: order_delivered }
                goal: { event: review_submitted, within: 14d }
                steps:
                  - action: { kind: email, template: review-request }
              - id: plain
                trigger: { event: cart_abandoned }
                steps:
                  - action: { kind: email, template: cart-reminder }
            """, "g.yaml");
        Assert.Equal(new Goal("review_submitted", TimeSpan.FromDays(14)), rules.Campaigns[0].Goal);
        Assert.Equal(Goal.Default, rules.Campaigns[1].Goal);
        Assert.Equal(new Goal("order_placed", TimeSpan.FromDays(7)), Goal.Default);
        Assert.Equal(["big-spenders", "runners"], rules.Segments.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new Comparison("traits.persona", ComparisonOp.Eq, System.Text.Json.Nodes.JsonValue.Create("runner")).ToString(), rules.Segments["runners"].ToString());
    }

    [Theory]
    [InlineData("goal: { event: order_placed, within: 400d }", "within '400d' is out of range: from 1s to 365d")]
    [InlineData("goal: { event: order_placed, after: 7d }", "unknown key 'after' in goal")]
    [InlineData("goal: order_placed", "goal is { event: order_placed, within: 7d }")]
    public void A_bad_goal_is_refused_naming_it(string goal, string expected)
    {
        var ex = Assert.Throws<RulesRejectedException>(() => RulesParser.Parse($$"""
            campaigns:
              - id: a
                trigger: { event: x }
                {{goal}}
                steps:
                  - action: { kind: email, template: t }
            """, "g.yaml"));
        Assert.Contains(ex.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("segments: { Runners: { field: traits.persona, op: eq, value: runner } }", "segment name 'Runners' may use lower-case letters")]
    [InlineData("segments: { carts: { field: properties.cartValue, op: gt, value: 10 } }", "segment 'carts' uses properties.cartValue, which belongs to a trigger event")]
    [InlineData("segments: [runners]", "segments maps a name to a condition")]
    public void A_bad_segment_is_refused_naming_it(string segments, string expected)
    {
        var ex = Assert.Throws<RulesRejectedException>(() => RulesParser.Parse(segments + "\ncampaigns: []", "s.yaml"));
        Assert.Contains(ex.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_error_in_a_file_is_reported_at_once()
    {
        var yaml = """
            campaigns:
              - id: Bad Id
                trigger: { event: order_placed, phaseEntered: purchase }
                steps:
                  - delay: soon
                    action: { kind: sms, text: hi }
              - id: ok
                trigger: { inactiveFor: 60d }
                holdout: 150%
                steps:
                  - variants:
                      - { weight: 60, action: { kind: email, template: a } }
                      - { weight: 30, action: { kind: email, template: b } }
            """;
        var ex = Assert.Throws<RulesRejectedException>(() => RulesParser.Parse(yaml, "r.yaml"));
        var messages = ex.Errors.Select(e => e.ToString()).ToList();
        Assert.Contains("r.yaml:2:9 campaign 'Bad Id': campaign id 'Bad Id' may use lower-case letters, digits and '-' (up to 80)", messages);
        Assert.Contains("r.yaml:3:14 campaign 'Bad Id': trigger has event and phaseEntered; use exactly one", messages);
        Assert.Contains("r.yaml:5:16 campaign 'Bad Id': delay 'soon' is not a duration; use a number with s, m, h, d or w, e.g. 1h or 30d", messages);
        Assert.Contains("r.yaml:6:25 campaign 'Bad Id': unknown action kind 'sms'; use one of email, banner, offer, retargeting, webhook, phase", messages);
        Assert.Contains("r.yaml:9:14 campaign 'ok': holdout '150%' is a share of customers from 0% to 100%, e.g. 10%", messages);
        Assert.Contains("r.yaml:12:11 campaign 'ok': variant weights add up to 90; they must add up to 100", messages);
        Assert.Equal(6, messages.Count);
    }

    [Theory]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, steps: [ { action: { kind: email } } ] } ]", "an email action needs template")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, colour: red, steps: [ { action: { kind: email, template: t } } ] } ]", "unknown key 'colour' in a campaign")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, steps: [ { action: { kind: offer, validFor: 3d } } ] } ]", "an offer has either discountPercent or amount")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, conditions: { field: shoeSize, op: eq, value: 1 }, steps: [ { action: { kind: email, template: t } } ] } ]", "unknown field 'shoeSize'; use one of traits.*, properties.*, context.*, phase, orders.count, orders.total, event.type")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, steps: [ { action: { kind: email, template: t, from: 'not an address' } } ] } ]", "from 'not an address' is not an email address")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, steps: [ { action: { kind: email, template: t, replyTo: 'a@shop.example, b@shop.example' } } ] } ]", "replyTo 'a@shop.example, b@shop.example' is not an email address")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, conditions: { field: traits.country, op: in, value: nl }, steps: [ { action: { kind: email, template: t } } ] } ]", "op 'in' takes a list value")]
    [InlineData("campaigns: [ { id: a, trigger: { schedule: every monday }, steps: [ { action: { kind: email, template: t } } ] } ]", "is not a Quartz cron expression")]
    [InlineData("campaigns: [ { id: a, trigger: { schedule: \"0 0 25 ? * MON\" }, steps: [ { action: { kind: email, template: t } } ] } ]", "is not a Quartz cron expression (Hour values must be between 0 and 23)")]
    [InlineData("defaults: { timeZone: Mars/Olympus }\ncampaigns: []", "unknown time zone 'Mars/Olympus'")]
    [InlineData("derive: { cartAbandoned: { after: soon } }\ncampaigns: []", "after 'soon' is not a duration")]
    [InlineData("derive: { orderLost: { after: 1h } }\ncampaigns: []", "unknown key 'orderLost' in derive; use one of cartAbandoned")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, steps: [] } ]", "steps is a non-empty list")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, steps: [ { action: { kind: email, template: t } } ] }, { id: a, trigger: { event: y }, steps: [ { action: { kind: email, template: t } } ] } ]", "campaign id 'a' is used twice")]
    [InlineData("campaigns:\n  - id: a\n   trigger: x", "not valid YAML")]
    public void A_bad_rules_file_is_refused_saying_what_is_wrong(string yaml, string expected)
    {
        var ex = Assert.Throws<RulesRejectedException>(() => RulesParser.Parse(yaml, "r.yaml"));
        Assert.Contains(ex.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_four_phase_model_reads_its_own_names_and_runs_loyalty_as_its_last_phase()
    {
        var rules = RulesParser.ParseMany([
            ("a.yaml", """
                phases:
                  think: [size_guide_opened]
                campaigns:
                  - id: care-mail
                    trigger: { phaseEntered: care }
                    conditions: { field: phase, op: in, value: [do, care] }
                    steps: [ { action: { kind: email, template: t } } ]
                  - id: lapsed
                    trigger: { inactiveFor: 90d, inPhase: retention }
                    steps: [ { action: { kind: phase, set: see } } ]
                """),
            ("b.yaml", "phaseModel: see-think-do-care\ncampaigns: []"),
        ]);
        Assert.Equal("see-think-do-care", rules.PhaseModelName);
        Assert.Equal(Phase.Consideration, rules.PhaseModel.Map("size_guide_opened"));
        Assert.Equal(Phase.Retention, rules.PhaseModel.Map("review_submitted"));
        Assert.Equal(Phase.Retention, rules.PhaseModel.Map("order_placed", orderCount: 2));
        var care = rules.Campaigns[0];
        Assert.Equal(Phase.Retention, ((PhaseEnteredTrigger)care.Trigger).Phase);
        Assert.Equal("""["purchase","retention"]""", ((Comparison)care.Conditions!).Value!.ToJsonString());
        Assert.Equal("awareness", rules.Campaigns[1].Steps[0].Variants[0].Action.Settings["set"]);
    }

    [Theory]
    [InlineData("phaseModel: see-think-do-care\ncampaigns: [ { id: a, trigger: { phaseEntered: loyalty }, steps: [ { action: { kind: email, template: t } } ] } ]", "unknown phase 'loyalty' in phaseModel see-think-do-care; use see, think, do, care")]
    [InlineData("phaseModel: race\ncampaigns: [ { id: a, trigger: { phaseEntered: care }, steps: [ { action: { kind: email, template: t } } ] } ]", "unknown phase 'care' in phaseModel race; use reach, act, convert, engage")]
    [InlineData("phaseModel: touch-tell-sell-care\nphases: { think: [x] }\ncampaigns: []", "unknown phase 'think' in phaseModel touch-tell-sell-care")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, steps: [ { action: { kind: phase, set: care } } ] } ]", "set 'care' is not a phase of five-phase; use awareness, consideration, purchase, retention or loyalty")]
    [InlineData("phaseModel: race\ncampaigns: [ { id: a, trigger: { event: x }, conditions: { field: phase, op: eq, value: loyalty }, steps: [ { action: { kind: email, template: t } } ] } ]", "'loyalty' is not a phase of race")]
    [InlineData("phaseModel: seven-phase\ncampaigns: []", "unknown phaseModel 'seven-phase'; use one of five-phase, see-think-do-care, touch-tell-sell-care, race")]
    public void Phase_names_are_read_in_the_files_model(string yaml, string expected)
    {
        var ex = Assert.Throws<RulesRejectedException>(() => RulesParser.Parse(yaml, "r.yaml"));
        Assert.Contains(ex.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("45s", 0, 0, 45)]
    [InlineData("15m", 0, 15, 0)]
    [InlineData("36h", 36, 0, 0)]
    [InlineData("2w", 336, 0, 0)]
    public void Durations_read_as_written(string text, int hours, int minutes, int seconds)
    {
        Assert.True(RulesParser.TryParseDuration(text, out var duration));
        Assert.Equal(new TimeSpan(hours, minutes, seconds), duration);
    }
}
