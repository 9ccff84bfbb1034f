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
}

/// <summary>Defaults for marketing sends.</summary>
/// <param name="TimeZone">IANA zone used when the customer has no <c>traits.timeZone</c>.</param>
/// <param name="SendWindow">Local hours in which marketing sends may go out; null: any time.</param>
/// <param name="FrequencyCaps">Marketing sends per channel per customer per rolling window.</param>
public sealed record RuleDefaults(TimeZoneInfo TimeZone, SendWindow? SendWindow, IReadOnlyList<FrequencyCap> FrequencyCaps);

/// <summary>Quiet hours are outside [From, To) in the customer's local time.</summary>
public sealed record SendWindow(TimeOnly From, TimeOnly To);

/// <summary>At most <paramref name="Max"/> sends on <paramref name="Channel"/> per <paramref name="Per"/>.</summary>
public sealed record FrequencyCap(string Channel, int Max, TimeSpan Per, CapBehaviour OnCap);

/// <summary>What happens to a send the cap does not allow now.</summary>
public enum CapBehaviour
{
    /// <summary>Moved to when the cap allows it.</summary>
    Defer,

    /// <summary>Dropped (and recorded).</summary>
    Skip,
}

/// <summary>What happens to pending steps when a new rules version changes their campaign.</summary>
public enum ChangeBehaviour
{
    /// <summary>They finish under the version they started with.</summary>
    Finish,

    /// <summary>They are cancelled and recorded.</summary>
    Exit,
}

/// <summary>One campaign: a trigger, who qualifies, and the ordered steps.</summary>
public sealed record Campaign(
    string Id,
    string? Description,
    Trigger Trigger,
    string? Key,
    Condition? Conditions,
    IReadOnlyList<string> ExitOn,
    TimeSpan? ReentryAfter,
    double HoldoutShare,
    int Priority,
    bool Transactional,
    ChangeBehaviour OnChange,
    IReadOnlyList<Step> Steps);

/// <summary>What starts a campaign instance for a customer. Exactly one kind is set.</summary>
public abstract record Trigger;

/// <summary>An event of this type is consumed.</summary>
public sealed record EventTrigger(string EventType) : Trigger;

/// <summary>The customer enters this phase.</summary>
public sealed record PhaseEnteredTrigger(Phase Phase) : Trigger;

/// <summary>No event for this long (optionally only customers in <paramref name="InPhase"/>).</summary>
public sealed record InactivityTrigger(TimeSpan InactiveFor, Phase? InPhase) : Trigger;

/// <summary>A Quartz cron schedule over the customers matching <paramref name="Segment"/>.</summary>
public sealed record ScheduleTrigger(string Cron, Condition? Segment) : Trigger;

/// <summary>A condition tree over a customer and the trigger event.</summary>
public abstract record Condition;

/// <summary>True when every part is.</summary>
public sealed record AllCondition(IReadOnlyList<Condition> Parts) : Condition;

/// <summary>True when any part is.</summary>
public sealed record AnyCondition(IReadOnlyList<Condition> Parts) : Condition;

/// <summary>True when the part is not.</summary>
public sealed record NotCondition(Condition Part) : Condition;

/// <summary><c>{ field, op, value }</c>: a field compared with a value (missing fields are false).</summary>
public sealed record Comparison(string Field, ComparisonOp Op, JsonNode? Value) : Condition;

/// <summary>The comparison operators of the rules language.</summary>
public enum ComparisonOp
{
    Eq, Ne, Gt, Gte, Lt, Lte, In, NotIn, Contains, Exists,
}

/// <summary>A step: wait (<see cref="Delay"/> from the previous step, or until local time <see cref="At"/>), then act.</summary>
/// <param name="Variants">The action, or A/B variants of it with weights (one variant of weight 100 when there is no split).</param>
public sealed record Step(TimeSpan Delay, TimeOnly? At, IReadOnlyList<Variant> Variants);

/// <summary>One variant of a step's action and its weight.</summary>
public sealed record Variant(int Weight, RuleAction Action);

/// <summary>An action of a kind (email, banner, offer, retargeting, webhook) with its settings as written.</summary>
public sealed record RuleAction(string Kind, IReadOnlyDictionary<string, string> Settings);
