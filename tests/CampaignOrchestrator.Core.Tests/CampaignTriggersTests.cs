using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Tests;

public class CampaignTriggersTests
{
    static readonly DateTimeOffset T = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    static readonly CompiledRules Rules = new(RulesParser.Parse("""
        campaigns:
          - id: cart-recovery
            trigger: { event: cart_abandoned }
            key: properties.cartId
            exitOn: [order_placed]
            steps:
              - delay: 1h
                action: { kind: email, template: cart-reminder }
          - id: welcome-banner
            trigger: { phaseEntered: consideration }
            steps:
              - action: { kind: banner, slot: home-hero, creative: benefits }
          - id: win-back
            trigger: { inactiveFor: 60d }
            steps:
              - action: { kind: email, template: we-miss-you }
        """, "t.yaml"), "v1");

    static StoredEvent E(string id, string type, DateTimeOffset at, JsonObject? properties = null, string profile = "c:anna") =>
        new(new AcceptedEvent(id, type, at, profile[2..], null, null, properties, new JsonObject { ["channel"] = "web" }), profile);

    [Fact]
    public void An_event_starts_the_campaigns_it_triggers_and_a_phase_entered_starts_those_of_the_phase_with_the_causing_event()
    {
        var cart = E("e-1", "cart_abandoned", T, new JsonObject { ["cartId"] = "cart-9" });
        var viewed = E("e-2", "product_viewed", T.AddMinutes(1));
        var starts = CampaignTriggers.Occurrences(Rules, [cart, viewed], [("c:anna", new PhaseChange(Phase.Consideration, T.AddMinutes(1), "e-2"))]);

        Assert.Equal(["cart-recovery", "welcome-banner"], starts.Select(s => s.Campaign.Id));
        var (_, profile, trigger) = starts[0];
        Assert.Equal(("c:anna", "e-1", "event cart_abandoned", T), (profile, trigger.TriggerId, trigger.Description, trigger.OccurredAt));
        Assert.Equal("cart-9", (string?)trigger.Properties!["cartId"]);
        var phase = starts[1].Trigger;
        Assert.Equal(("e-2", "entered consideration (event product_viewed)", T.AddMinutes(1)), (phase.TriggerId, phase.Description, phase.OccurredAt));
        Assert.Equal("web", (string?)phase.Context!["channel"]);
    }

    [Fact]
    public void An_event_no_campaign_names_starts_nothing()
    {
        Assert.Empty(CampaignTriggers.Occurrences(Rules, [E("e-1", "page_viewed", T)], []));
    }

    [Fact]
    public void An_exit_event_ends_its_campaign_for_its_key_and_any_activity_ends_inactivity_campaigns()
    {
        var order = E("o-1", "order_placed", T, new JsonObject { ["cartId"] = "cart-9" });
        var exits = CampaignTriggers.Exits(Rules, [order]);

        Assert.Equal(2, exits.Count);
        Assert.Equal(new CampaignExit("c:anna", "cart-recovery", "cart-9", T, "o-1", $"exit: order_placed at {T:O}"), exits[0]);
        Assert.Equal(new CampaignExit("c:anna", "win-back", null, T, "o-1", $"active again: order_placed at {T:O}"), exits[1]);
    }

    [Fact]
    public void An_exit_event_without_the_key_ends_every_instance()
    {
        var exit = CampaignTriggers.Exits(Rules, [E("o-1", "order_placed", T)])[0];
        Assert.Null(exit.InstanceKey);
    }

    [Fact]
    public void A_late_trigger_is_ended_at_once_by_the_first_stored_exit_after_it_for_the_same_key()
    {
        var campaign = Rules.ById["cart-recovery"];
        var trigger = new TriggerOccurrence("e-1", "event cart_abandoned", T, null, null);
        ExitEvent Exit(string id, DateTimeOffset at, string? cartId, string profile = "c:anna", string type = "order_placed") =>
            new(profile, type, at, id, cartId is null ? null : $$"""{"cartId":"{{cartId}}"}""", null);

        Assert.Equal("o-2", CampaignTriggers.FirstExitAfter(campaign, "c:anna", trigger, "cart-9",
            [Exit("o-3", T.AddHours(3), "cart-9"), Exit("o-2", T.AddHours(2), "cart-9"), Exit("o-1", T.AddHours(-1), "cart-9")])?.EventId);
        Assert.Null(CampaignTriggers.FirstExitAfter(campaign, "c:anna", trigger, "cart-9", [Exit("o-1", T.AddHours(1), "cart-7")]));     // another cart
        Assert.Equal("o-1", CampaignTriggers.FirstExitAfter(campaign, "c:anna", trigger, "cart-9", [Exit("o-1", T.AddHours(1), null)])?.EventId); // no key: all
        Assert.Null(CampaignTriggers.FirstExitAfter(campaign, "c:anna", trigger, "cart-9", [Exit("o-1", T.AddHours(1), "cart-9", profile: "c:bob")]));
        Assert.Null(CampaignTriggers.FirstExitAfter(campaign, "c:anna", trigger, "cart-9", [Exit("o-1", T.AddHours(1), "cart-9", type: "page_viewed")]));
        Assert.Null(CampaignTriggers.FirstExitAfter(Rules.ById["welcome-banner"], "c:anna", trigger, null, [Exit("o-1", T.AddHours(1), null)])); // no exitOn
    }

    [Theory]
    [InlineData("properties.cartId", """{"cartId":"cart-9"}""", null, "cart-9")]
    [InlineData("properties.cartId", """{"cartId":42}""", null, "42")]
    [InlineData("properties.cartId", """{"other":1}""", null, null)]
    [InlineData("properties.cartId", null, null, null)]
    [InlineData("context.campaign", null, """{"campaign":"spring"}""", "spring")]
    public void The_key_is_read_from_the_event_as_text(string field, string? properties, string? context, string? expected)
    {
        Assert.Equal(expected, CampaignTriggers.KeyOf(field, properties, context));
    }

    [Fact]
    public void A_derivation_carries_its_type_the_trigger_and_the_trigger_properties()
    {
        var json = CampaignTriggers.DeriveSettingsJson(new Dictionary<string, string> { ["type"] = "cart_abandoned" },
            new TriggerOccurrence("e-1", "event cart_updated", T, new JsonObject { ["cartId"] = "cart-9" }, null));
        Assert.Equal("""{"type":"cart_abandoned","derivedFrom":"e-1","properties":{"cartId":"cart-9"}}""", json);
    }
}
