using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Tests;

public sealed class JourneyEngineTests
{
    static readonly DateTimeOffset T = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    static int _seq;

    static AcceptedEvent E(string type, int minutes, JsonObject? traits = null) =>
        new($"e{Interlocked.Increment(ref _seq)}", type, T.AddMinutes(minutes), "c1", null, traits, null, null);

    static JourneyProfile Play(params AcceptedEvent[] events)
    {
        var p = new JourneyProfile("c:c1", "c1");
        foreach (var e in events)
            JourneyEngine.Apply(p, e, PhaseModel.Default);
        return p;
    }

    [Fact]
    public void The_phase_only_moves_forward_by_the_mapping()
    {
        var p = Play(E("page_viewed", 0), E("order_placed", 1), E("product_viewed", 2), E("order_delivered", 3), E("ad_clicked", 4));
        Assert.Equal(Phase.Retention, p.Phase);
        Assert.Equal([Phase.Awareness, Phase.Purchase, Phase.Retention], p.AppendedPhaseChanges.Select(c => c.Phase));
        Assert.Equal(T.AddMinutes(3), p.PhaseSince);
    }

    [Fact]
    public void A_four_phase_model_keeps_a_loyal_customer_in_its_last_phase()
    {
        var model = PhaseModel.Default.With(new Dictionary<string, Phase>(), PhaseVocabulary.All["see-think-do-care"]);
        var p = new JourneyProfile("c:c1", "c1");
        foreach (var e in new[] { E("page_viewed", 0), E("order_placed", 1), E("order_delivered", 2), E("order_placed", 3), E("review_submitted", 4), Reset("loyalty", 5) })
            JourneyEngine.Apply(p, e, model);
        Assert.Equal(Phase.Retention, p.Phase);
        Assert.Equal(["see", "do", "care"], p.AppendedPhaseChanges.Select(c => model.Vocabulary.NameOf(c.Phase)));

        var five = Play(E("page_viewed", 0), E("order_placed", 1), E("order_delivered", 2), E("order_placed", 3));
        Assert.Equal(Phase.Loyalty, five.Phase);
    }

    static AcceptedEvent Reset(string phase, int minutes) =>
        new($"e{Interlocked.Increment(ref _seq)}", PhaseModel.PhaseReset, T.AddMinutes(minutes), "c1", null, null, new JsonObject { ["phase"] = phase }, null);

    [Fact]
    public void A_phase_reset_sets_the_phase_back_and_the_mapping_moves_it_forward_again()
    {
        var reset = Reset("awareness", 3);
        var p = Play(E("product_viewed", 0), E("order_placed", 1), E("order_delivered", 2), reset, E("product_viewed", 4));
        Assert.Equal(Phase.Consideration, p.Phase);
        Assert.Equal([Phase.Consideration, Phase.Purchase, Phase.Retention, Phase.Awareness, Phase.Consideration], p.AppendedPhaseChanges.Select(c => c.Phase));
        Assert.Equal(reset.EventId, p.AppendedPhaseChanges[3].EventId);
        // The same timeline replayed gives the same history.
        var (history, _) = JourneyEngine.Replay([
            new TimelineEntry("a", "product_viewed", T), new TimelineEntry("b", "order_placed", T.AddMinutes(1)),
            new TimelineEntry("c", "order_delivered", T.AddMinutes(2)), new TimelineEntry("d", PhaseModel.PhaseReset, T.AddMinutes(3), Phase.Awareness),
            new TimelineEntry("e", "product_viewed", T.AddMinutes(4))], PhaseModel.Default);
        Assert.Equal([Phase.Consideration, Phase.Purchase, Phase.Retention, Phase.Awareness, Phase.Consideration], history.Select(c => c.Phase));
    }

    [Fact]
    public void A_late_phase_reset_asks_for_a_replay_and_a_reset_to_the_phase_held_changes_nothing()
    {
        Assert.True(Play(E("order_placed", 5), Reset("awareness", 1)).NeedsPhaseReplay);
        var same = Play(E("page_viewed", 0), Reset("awareness", 1));
        Assert.Equal([Phase.Awareness], same.AppendedPhaseChanges.Select(c => c.Phase));
        Assert.Equal(T, same.PhaseSince);
    }

    [Fact]
    public void Unsubscribing_withdraws_email_consent_until_a_later_consent_gives_it_back()
    {
        var yes = new JsonObject { ["emailConsent"] = true };
        Assert.Equal(false, (bool?)Play(E("consent_changed", 0, yes), E("unsubscribed", 5)).Traits["emailConsent"]);
        Assert.Equal(true, (bool?)Play(E("consent_changed", 0, yes), E("unsubscribed", 5), E("consent_changed", 9, (JsonObject)yes.DeepClone())).Traits["emailConsent"]);
        // A consent given before the unsubscribe, arriving after it, does not undo it (newest by occurredAt wins).
        Assert.Equal(false, (bool?)Play(E("unsubscribed", 5), E("consent_changed", 0, (JsonObject)yes.DeepClone())).Traits["emailConsent"]);
    }

    [Fact]
    public void A_second_order_moves_the_customer_to_loyalty()
    {
        var p = Play(E("order_placed", 0), E("order_delivered", 10), E("order_placed", 20));
        Assert.Equal(Phase.Loyalty, p.Phase);
        Assert.Equal(2, p.OrderCount);
    }

    [Fact]
    public void Unknown_types_go_on_the_timeline_but_map_to_no_phase()
    {
        var p = Play(E("size_guide_opened", 0));
        Assert.Null(p.Phase);
        Assert.Equal(1, p.EventCount);
    }

    [Fact]
    public void Traits_merge_per_key_and_the_newest_occurredAt_wins_whatever_the_arrival_order()
    {
        var p = Play(
            E("page_viewed", 10, new JsonObject { ["firstName"] = "Anna", ["locale"] = "nl-NL" }),
            E("page_viewed", 5, new JsonObject { ["firstName"] = "Old", ["persona"] = "explorer" }));
        Assert.Equal("Anna", (string?)p.Traits["firstName"]);
        Assert.Equal("nl-NL", (string?)p.Traits["locale"]);
        Assert.Equal("explorer", (string?)p.Traits["persona"]);
    }

    [Fact]
    public void A_late_event_with_a_phase_asks_for_a_replay_and_the_replay_puts_it_in_its_place()
    {
        var viewed = E("product_viewed", 5);
        var p = Play(E("page_viewed", 0), E("order_placed", 10), viewed);
        Assert.True(p.NeedsPhaseReplay);

        var timeline = new[] { new TimelineEntry("a", "page_viewed", T), new TimelineEntry(viewed.EventId, "product_viewed", T.AddMinutes(5)), new TimelineEntry("b", "order_placed", T.AddMinutes(10)) };
        var (history, orders) = JourneyEngine.Replay(timeline, PhaseModel.Default);
        Assert.Equal([Phase.Awareness, Phase.Consideration, Phase.Purchase], history.Select(h => h.Phase));
        Assert.Equal(viewed.EventId, history[1].EventId);
        Assert.Equal(1, orders);
    }

    [Fact]
    public void A_late_event_without_a_phase_needs_no_replay()
    {
        var p = Play(E("page_viewed", 10), E("size_guide_opened", 0));
        Assert.False(p.NeedsPhaseReplay);
        Assert.Equal(T, p.FirstSeen);
    }

    [Fact]
    public void Replay_drops_a_phase_entry_that_an_earlier_late_event_overtakes()
    {
        // product_viewed at 09:00 arrives after page_viewed at 10:00: awareness is never entered.
        var (history, _) = JourneyEngine.Replay(
            [new("v", "product_viewed", T.AddHours(-1)), new("p", "page_viewed", T)], PhaseModel.Default);
        Assert.Equal([Phase.Consideration], history.Select(h => h.Phase));
    }

    [Fact]
    public void Merging_a_device_keeps_the_newest_traits_and_sums_the_journey()
    {
        var customer = Play(E("order_placed", 60, new JsonObject { ["firstName"] = "Anna" }));
        var device = new JourneyProfile("a:d1", null);
        JourneyEngine.Apply(device, new AcceptedEvent("d-1", "product_viewed", T, null, "d1", new JsonObject { ["firstName"] = "A.", ["device"] = "phone" }, null, null), PhaseModel.Default);

        JourneyEngine.Merge(customer, device);
        Assert.Equal("Anna", (string?)customer.Traits["firstName"]);
        Assert.Equal("phone", (string?)customer.Traits["device"]);
        Assert.Equal(2, customer.EventCount);
        Assert.Equal(T, customer.FirstSeen);
        Assert.True(customer.NeedsPhaseReplay);
    }

    [Theory]
    [InlineData("touch", Phase.Awareness)]
    [InlineData("think", Phase.Consideration)]
    [InlineData("convert", Phase.Purchase)]
    [InlineData("care", Phase.Retention)]
    [InlineData("advocacy", Phase.Loyalty)]
    [InlineData("Loyalty", Phase.Loyalty)]
    public void Phase_model_aliases_map_onto_the_five_phases(string alias, Phase expected)
    {
        Assert.True(PhaseNames.TryParse(alias, out var phase));
        Assert.Equal(expected, phase);
    }

    [Fact]
    public void A_customer_holds_at_most_500_traits_and_the_event_that_would_pass_it_is_rejected_untouched()
    {
        static JsonObject Keys(int from, int count) => new(Enumerable.Range(from, count).Select(i => KeyValuePair.Create($"k{i}", (JsonNode?)JsonValue.Create(i))));
        var p = Play(E("page_viewed", 0, Keys(0, 100)), E("page_viewed", 1, Keys(100, 100)), E("page_viewed", 2, Keys(200, 100)),
            E("page_viewed", 3, Keys(300, 100)), E("page_viewed", 4, Keys(400, 100)));
        Assert.Equal(EventLimits.MaxProfileTraits, p.Traits.Count);
        var count = p.EventCount;
        var ex = Assert.Throws<JourneyEventRejectedException>(() => JourneyEngine.Apply(p, E("page_viewed", 5, Keys(500, 1)), PhaseModel.Default));
        Assert.Contains("the customer would hold 501 traits; the limit is 500", ex.Message);
        Assert.Equal((500, count), (p.Traits.Count, p.EventCount));
        // Known keys may still change.
        JourneyEngine.Apply(p, E("page_viewed", 6, Keys(0, 100)), PhaseModel.Default);
        Assert.Equal(500, p.Traits.Count);
    }
}
