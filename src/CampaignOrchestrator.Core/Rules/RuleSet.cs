using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>
/// What marketers write (docs/rules.md), parsed and checked: the phase model, defaults and campaigns.
/// Immutable; a reload builds a new one.
/// </summary>
public sealed record RuleSet(string PhaseModelName, PhaseModel PhaseModel, RuleDefaults Defaults, IReadOnlyList<Campaign> Campaigns)
{
    /// <summary>
    /// When set (<c>derive: { cartAbandoned: { after } }</c>), a <c>cart_updated</c> or <c>checkout_started</c> not
    /// followed within this time by an <c>order_placed</c> (or a newer update of the same cart) puts a derived
    /// <c>cart_abandoned</c> on the timeline, for webshops that cannot publish one.
    /// </summary>
    public TimeSpan? DeriveCartAbandonedAfter { get; init; }

    /// <summary>
    /// Named segments (<c>segments: { runners: { field: traits.persona, op: eq, value: runner } }</c>): conditions the
    /// funnel and the campaign results can be cut by, by name. Judged on the customer (traits, phase, orders).
    /// </summary>
    public IReadOnlyDictionary<string, Condition> Segments { get; init; } = new Dictionary<string, Condition>();
}
