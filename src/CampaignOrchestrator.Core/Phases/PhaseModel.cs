using System.Collections.Frozen;

namespace CampaignOrchestrator.Core.Phases;

/// <summary>
/// Maps event types to phases (wire contract v1, "Standard event vocabulary and default phases").
/// Unknown types map to no phase. A customer's second <c>order_placed</c> means loyalty.
/// </summary>
public sealed class PhaseModel
{
    /// <summary>The event that counts orders; the second one moves a customer to loyalty.</summary>
    public const string OrderPlaced = "order_placed";

    /// <summary>
    /// Sets the customer's phase to <c>properties.phase</c>, backwards too (wire contract: "a rule may reset it"): what a
    /// campaign's <c>{ kind: phase, set: awareness }</c> step puts on the timeline, and what a webshop may publish.
    /// </summary>
    public const string PhaseReset = "phase_reset";

    /// <summary>The phase a <see cref="PhaseReset"/> event's properties name, or null.</summary>
    public static Phase? ResetTarget(System.Text.Json.Nodes.JsonObject? properties) =>
        properties?["phase"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var name) && PhaseNames.TryParse(name, out var phase) ? phase : null;

    /// <summary>The mapping of wire contract v1.</summary>
    public static readonly PhaseModel Default = new(new Dictionary<string, Phase>
    {
        ["ad_clicked"] = Phase.Awareness,
        ["ad_impression"] = Phase.Awareness,
        ["page_viewed"] = Phase.Awareness,
        ["newsletter_signup"] = Phase.Awareness,
        ["social_engaged"] = Phase.Awareness,
        ["product_viewed"] = Phase.Consideration,
        ["product_compared"] = Phase.Consideration,
        ["review_read"] = Phase.Consideration,
        ["wishlist_added"] = Phase.Consideration,
        ["search_performed"] = Phase.Consideration,
        ["cart_updated"] = Phase.Purchase,
        ["checkout_started"] = Phase.Purchase,
        ["cart_abandoned"] = Phase.Purchase,
        ["order_placed"] = Phase.Purchase,
        ["payment_failed"] = Phase.Purchase,
        ["order_shipped"] = Phase.Retention,
        ["order_delivered"] = Phase.Retention,
        ["return_requested"] = Phase.Retention,
        ["support_ticket_opened"] = Phase.Retention,
        ["review_submitted"] = Phase.Loyalty,
        ["referral_sent"] = Phase.Loyalty,
        ["loyalty_joined"] = Phase.Loyalty,
    });

    readonly FrozenDictionary<string, Phase> _mapping;

    /// <summary>Creates a model from an event-type → phase mapping, run on <paramref name="vocabulary"/>'s phases (default five).</summary>
    public PhaseModel(IReadOnlyDictionary<string, Phase> mapping, PhaseVocabulary? vocabulary = null)
    {
        Vocabulary = vocabulary ?? PhaseVocabulary.FivePhase;
        _mapping = mapping.ToFrozenDictionary(kv => kv.Key, kv => Vocabulary.Fold(kv.Value), StringComparer.Ordinal);
    }

    /// <summary>The phases the journeys run on (the rules file's <c>phaseModel</c>): a four-phase model never stores loyalty.</summary>
    public PhaseVocabulary Vocabulary { get; }

    /// <summary>Returns a copy with extra or overriding mappings (the <c>phases:</c> block of a rules file), on <paramref name="vocabulary"/> when given.</summary>
    public PhaseModel With(IReadOnlyDictionary<string, Phase> overrides, PhaseVocabulary? vocabulary = null)
    {
        var merged = new Dictionary<string, Phase>(_mapping, StringComparer.Ordinal);
        foreach (var (type, phase) in overrides)
            merged[type] = phase;
        return new PhaseModel(merged, vocabulary ?? Vocabulary);
    }

    /// <summary>The phase an event of <paramref name="eventType"/> points to, or null.</summary>
    public Phase? Map(string eventType) => _mapping.TryGetValue(eventType, out var phase) ? phase : null;

    /// <summary>
    /// The phase an event points to for a customer who has now placed <paramref name="orderCount"/>
    /// orders, this event included: a second order means loyalty (care, engage in a four-phase model).
    /// </summary>
    public Phase? Map(string eventType, int orderCount) =>
        eventType == OrderPlaced && orderCount >= 2 ? Vocabulary.Fold(Phase.Loyalty) : Map(eventType);

    /// <summary>The phase a reset to <paramref name="phase"/> puts the customer in under this model.</summary>
    public Phase Fold(Phase phase) => Vocabulary.Fold(phase);
}
