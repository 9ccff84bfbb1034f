using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>
/// One accepted rules version, ready to judge events fast: campaigns indexed by trigger event, by
/// phase entered and by exit event, and a fingerprint per campaign so a new version can tell which
/// campaigns it changed (<c>onChange</c>) or removed.
/// </summary>
public sealed class CompiledRules
{
    /// <summary>Compiles <paramref name="rules"/> under the version id <paramref name="version"/>.</summary>
    public CompiledRules(RuleSet rules, string version)
    {
        Rules = rules;
        Version = version;
        var campaigns = rules.Campaigns.ToList();
        var triggers = campaigns.Where(c => c.Trigger is EventTrigger).Select(c => (((EventTrigger)c.Trigger).EventType, c)).ToList();
        if (rules.DeriveCartAbandonedAfter is { } after)
        {
            var derive = new Campaign(DerivedCartAbandonedId, "Derived: a cart left without an order becomes a cart_abandoned on the timeline",
                new EventTrigger("cart_updated"), "properties.cartId", null, ["order_placed", "cart_abandoned", "cart_updated", "checkout_started"],
                TimeSpan.Zero, 0, 0, true, ChangeBehaviour.Finish,
                [new Step(after, null, [new Variant(100, new RuleAction(DeriveKind, new Dictionary<string, string> { ["type"] = "cart_abandoned" }))])]);
            campaigns.Add(derive);
            triggers.Add(("cart_updated", derive));
            triggers.Add(("checkout_started", derive));
        }
        Campaigns = campaigns;
        ById = campaigns.ToFrozenDictionary(c => c.Id, StringComparer.Ordinal);
        Fingerprints = campaigns.ToFrozenDictionary(c => c.Id, Fingerprint, StringComparer.Ordinal);
        ByEvent = triggers.GroupBy(t => t.Item1, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(t => t.c).ToArray(), StringComparer.Ordinal);
        ByPhase = campaigns.Where(c => c.Trigger is PhaseEnteredTrigger)
            .GroupBy(c => ((PhaseEnteredTrigger)c.Trigger).Phase)
            .ToFrozenDictionary(g => g.Key, g => g.ToArray());
        Inactivity = campaigns.Where(c => c.Trigger is InactivityTrigger).ToArray();
        Schedules = campaigns.Where(c => c.Trigger is ScheduleTrigger).ToArray();
        ExitsByEvent = campaigns.SelectMany(c => c.ExitOn.Select(e => (Event: e, Campaign: c)))
            .GroupBy(x => x.Event, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(x => x.Campaign).ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The built-in campaign that derives <c>cart_abandoned</c> (<c>derive: { cartAbandoned }</c>).</summary>
    public const string DerivedCartAbandonedId = "derived-cart-abandoned";

    /// <summary>The action kind that puts a derived event on the timeline instead of reaching a channel.</summary>
    public const string DeriveKind = "derive";

    /// <summary>The step action that sets the customer's phase (<c>{ kind: phase, set: awareness }</c>): a <c>phase_reset</c> on the timeline.</summary>
    public const string PhaseKind = "phase";

    /// <summary>Every campaign in force: the marketers' and the built-in ones the rules turn on.</summary>
    public IReadOnlyList<Campaign> Campaigns { get; }

    /// <summary>The rules as parsed.</summary>
    public RuleSet Rules { get; }

    /// <summary>The phase model the rules run on (<c>phaseModel</c>): its names are the ones shown to marketers.</summary>
    public PhaseVocabulary Vocabulary => PhaseVocabulary.All.GetValueOrDefault(Rules.PhaseModelName) ?? PhaseVocabulary.FivePhase;

    /// <summary>The content version (see RulesFiles): the same files give the same version.</summary>
    public string Version { get; }

    /// <summary>Campaigns by id.</summary>
    public FrozenDictionary<string, Campaign> ById { get; }

    /// <summary>A hash of each campaign's definition: equal across versions when the campaign did not change.</summary>
    public FrozenDictionary<string, string> Fingerprints { get; }

    /// <summary>Campaigns an event type starts.</summary>
    public FrozenDictionary<string, Campaign[]> ByEvent { get; }

    /// <summary>Campaigns that entering a phase starts.</summary>
    public FrozenDictionary<Phase, Campaign[]> ByPhase { get; }

    /// <summary>Campaigns started by inactivity (any later event of the customer ends their pending steps).</summary>
    public IReadOnlyList<Campaign> Inactivity { get; }

    /// <summary>Campaigns started by a cron schedule over a segment.</summary>
    public IReadOnlyList<Campaign> Schedules { get; }

    /// <summary>Campaigns an event type exits.</summary>
    public FrozenDictionary<string, Campaign[]> ExitsByEvent { get; }

    /// <summary>The phase mapping the rules choose.</summary>
    public PhaseModel PhaseModel => Rules.PhaseModel;

    /// <summary>A canonical text of everything that defines a campaign, hashed.</summary>
    public static string Fingerprint(Campaign campaign)
    {
        var text = new StringBuilder();
        text.Append(campaign.Id).Append('|').Append(Describe(campaign.Trigger)).Append('|').Append(campaign.Key).Append('|')
            .Append(Describe(campaign.Conditions)).Append('|').AppendJoin(',', campaign.ExitOn).Append('|')
            .Append(campaign.ReentryAfter?.Ticks).Append('|').Append(campaign.HoldoutShare.ToString("R", CultureInfo.InvariantCulture)).Append('|')
            .Append(campaign.Priority).Append('|').Append(campaign.Transactional).Append('|').Append(campaign.OnChange);
        foreach (var step in campaign.Steps)
        {
            text.Append("|step ").Append(step.Delay.Ticks).Append(' ').Append(step.At?.ToString("HH:mm", CultureInfo.InvariantCulture));
            foreach (var variant in step.Variants)
            {
                text.Append(" v").Append(variant.Weight).Append(' ').Append(variant.Action.Kind);
                foreach (var (key, value) in variant.Action.Settings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    text.Append(' ').Append(key).Append('=').Append(value);
            }
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    static string Describe(Trigger trigger) => trigger switch
    {
        EventTrigger t => "event:" + t.EventType,
        PhaseEnteredTrigger t => "phase:" + t.Phase.ToName(),
        InactivityTrigger t => "inactive:" + t.InactiveFor.Ticks + ":" + t.InPhase?.ToName(),
        ScheduleTrigger t => "schedule:" + t.Cron + ":" + Describe(t.Segment),
        _ => trigger.GetType().Name,
    };

    static string Describe(Condition? condition) => condition switch
    {
        null => "",
        AllCondition all => "all(" + string.Join(";", all.Parts.Select(Describe)) + ")",
        AnyCondition any => "any(" + string.Join(";", any.Parts.Select(Describe)) + ")",
        NotCondition not => "not(" + Describe(not.Part) + ")",
        Comparison c => c.Field + " " + c.Op + " " + c.Value?.ToJsonString(),
        _ => condition.GetType().Name,
    };
}
