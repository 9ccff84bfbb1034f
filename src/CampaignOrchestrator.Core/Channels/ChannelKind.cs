using System.Text.Json;
using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Core.Channels;

/// <summary>
/// One kind of action, described once: the settings a rules file gives it, whether it is a message (it interrupts the
/// customer: marketing sends need consent, wait for the send window and count against the frequency caps), the traits
/// that hold the customer's consent to it, and what a suppression applies to. The rules parser, the send policy, the
/// channels and the explainer read it from here; <c>rules/rules.schema.json</c> is checked against it by a test. A new
/// channel is its class in Infrastructure/Channels, its description in <see cref="ChannelKinds"/>, and their tests.
/// </summary>
public sealed record ChannelKind
{
    /// <summary>The action's <c>kind</c> in the rules, and the channel's name in caps and in the action log.</summary>
    public required string Name { get; init; }

    /// <summary>What it does, in a line (the explainer and the docs).</summary>
    public required string Summary { get; init; }

    /// <summary>Settings an action of this kind must give.</summary>
    public IReadOnlyList<string> Required { get; init; } = [];

    /// <summary>Settings it may give.</summary>
    public IReadOnlyList<string> Optional { get; init; } = [];

    /// <summary>Those of its settings that are durations (<c>72h</c>), bounded by <see cref="Rules.RuleLimits"/>.</summary>
    public IReadOnlyList<string> Durations { get; init; } = [];

    /// <summary>It reaches the customer (a frequency cap may count it); false for what only changes the journey.</summary>
    public bool ReachesCustomer { get; init; } = true;

    /// <summary>
    /// It interrupts the customer: marketing sends through it need the consent of <see cref="ConsentTraits"/>, wait for
    /// the send window in the customer's zone and count against the frequency caps (a banner or an audience does not).
    /// </summary>
    public bool IsMessage { get; init; }

    /// <summary>The traits that hold the customer's consent to its marketing, the first one present deciding; none: no consent asked.</summary>
    public IReadOnlyList<string> ConsentTraits { get; init; } = [];

    /// <summary>What a suppression (unsubscribe, hard bounce, erasure) applies to.</summary>
    public SuppressionScope Suppression { get; init; }

    /// <summary>
    /// The channel an action of this kind with these settings reaches the customer through, when another kind's
    /// (an offer with a <c>template</c> is sent as an email); null: its own.
    /// </summary>
    public Func<IReadOnlyDictionary<string, string>, ChannelKind?> SentAs { get; init; } = _ => null;

    /// <summary>Every setting it knows.</summary>
    public IEnumerable<string> Settings => Required.Concat(Optional);

    /// <summary>Whether <paramref name="traits"/> give consent to this channel's marketing (true when it asks none).</summary>
    public bool HasConsent(IReadOnlyDictionary<string, JsonNode?> traits)
    {
        if (ConsentTraits.Count == 0)
            return true;
        foreach (var trait in ConsentTraits)
            if (traits.GetValueOrDefault(trait) is { } value)
                return value is JsonValue v && v.GetValueKind() == JsonValueKind.True;
        return false;
    }

    /// <summary>The consent traits as a reason names them (<c>traits.adConsent / emailConsent</c>).</summary>
    public string ConsentNames => ConsentTraits.Count == 0 ? "" : "traits." + string.Join(" / ", ConsentTraits);

    public override string ToString() => Name;
}

/// <summary>What a suppression of a customer applies to on a channel.</summary>
public enum SuppressionScope
{
    /// <summary>The channel has no suppression list.</summary>
    None,

    /// <summary>The address, whoever it belongs to now (the email suppression list: unsubscribed, hard-bounced, erased).</summary>
    Address,
}
