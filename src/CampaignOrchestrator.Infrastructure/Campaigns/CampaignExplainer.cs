using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>
/// Why a customer did or did not get (each step of) a campaign (<c>GET /api/customers/{id}/explain?campaign=ID</c>): every
/// trigger seen on the stored journey (the event, or the phase entry and the event that caused it), and for each either
/// the instance that started (holdout, each step's variant, what became of it and why: delivered, suppressed by consent,
/// the send window or a cap, cancelled by an exit and which event) or why none started, judged again now by the planner
/// (each condition with the value it finds, re-entry). Inactivity and schedule triggers are found by scans, not events:
/// their instances are listed, and a note says so.
/// </summary>
internal sealed class CampaignExplainer(JourneyReader journeys, RulesHistory history, ActionStore actions, ActiveRules rules)
{

    const int TimelineRead = 1000;

    /// <returns>Null when no journey is held for <paramref name="id"/>.</returns>
    public async Task<CampaignExplanation?> ExplainAsync(string id, string campaignId, CancellationToken ct)
    {
        var journey = await journeys.GetAsync(id, TimelineRead, ct);
        if (journey is null)
            return null;
        var compiled = rules.Current;
        var campaign = compiled.Rules.Campaigns.FirstOrDefault(c => c.Id == campaignId);
        var recorded = (await actions.ForProfileAsync(journey.ProfileId, TimelineRead, ct)).Where(a => a.CampaignId == campaignId).ToList();
        var notes = new List<string>();
        if (campaign is null)
            notes.Add($"campaign '{campaignId}' is not in the rules in force (version {compiled.Version}); only what it recorded is shown");

        var traits = journey.Traits.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        PhaseNames.TryParse(journey.Phase, out var phase);
        var customer = new CustomerState(journey.ProfileId, journey.CustomerId, traits, journey.Phase is null ? null : phase, journey.OrderCount, journey.OrderTotal);
        var byId = journey.Timeline.ToDictionary(t => t.EventId, StringComparer.Ordinal);

        var occurrences = new List<OccurrenceExplanation>();
        foreach (var instance in recorded.GroupBy(a => a.TriggerId).OrderBy(g => g.Min(a => a.TriggeredAt)))
        {
            var first = instance.OrderBy(a => a.Step).First();
            occurrences.Add(new OccurrenceExplanation(instance.Key, byId.GetValueOrDefault(instance.Key)?.Type, first.TriggeredAt, true,
                first.Log.FirstOrDefault()?.Reason, first.Holdout, first.RulesVersion, [],
                instance.OrderBy(a => a.Step).Select(a => new StepExplanation(a.Step, a.Kind, a.Variant, a.Status, a.DueAt, a.FinishedAt, a.Reason, a.CauseEventId,
                    Why(a))).ToList()));
        }

        if (campaign is not null)
        {
            var started = recorded.Select(a => a.TriggerId).ToHashSet(StringComparer.Ordinal);
            var earlier = recorded.Select(a => a.TriggeredAt).Distinct().Order().ToList();
            var versions = new Dictionary<string, (RuleSet Rules, string Version)?>(StringComparer.Ordinal);
            foreach (var trigger in Triggers(campaign, journey, byId).Where(t => !started.Contains(t.TriggerId)))
            {
                // Judged by the rules in force when the trigger happened, when the store kept them; else by today's.
                var (ruleSet, version) = await InForceAsync(trigger.OccurredAt, compiled, versions, ct);
                var then = ruleSet.Campaigns.FirstOrDefault(c => c.Id == campaignId);
                if (then is null)
                {
                    occurrences.Add(new OccurrenceExplanation(trigger.TriggerId, trigger.EventType, trigger.OccurredAt, false,
                        $"the campaign was not in the rules in force then (version {version})", false, version, [], []));
                    continue;
                }
                var decision = CampaignPlanner.Plan(then, trigger, customer, ruleSet.Defaults, earlier.Where(t => t < trigger.OccurredAt));
                var subject = new ConditionSubject(traits, trigger.Properties, trigger.Context, customer.Phase, customer.OrderCount, customer.OrderTotal, trigger.EventType);
                occurrences.Add(new OccurrenceExplanation(trigger.TriggerId, trigger.EventType, trigger.OccurredAt, false,
                    decision.SkipReason ?? $"the rules in force then (version {version}) would have started it; it did not start (the trigger arrived before the worker took them, or was replayed)",
                    decision.Plan?.Holdout ?? false, version, ConditionEvaluator.Checks(then.Conditions, subject).ToList(), []));
            }
            if (campaign.Trigger is InactivityTrigger or ScheduleTrigger)
                notes.Add("this campaign is started by a scan (inactivity or a schedule), not by an event: only the instances it started are listed");
            else if (occurrences.Count == 0)
                notes.Add(campaign.Trigger switch
                {
                    EventTrigger e => $"no {e.EventType} event on this customer's journey (the last {TimelineRead} events)",
                    PhaseEnteredTrigger p => $"the customer never entered {p.Phase.ToName()}",
                    _ => "no trigger seen",
                });
            if (campaign.HoldoutShare > 0)
            {
                var bucket = CampaignPlanner.Bucket(campaign.Id, "holdout", customer.StableId);
                notes.Add(bucket < campaign.HoldoutShare
                    ? $"in the holdout: this customer's bucket {bucket:0.000} is under the campaign's holdout share {campaign.HoldoutShare:0.###}, so every instance is held out"
                    : $"not in the holdout: bucket {bucket:0.000}, holdout share {campaign.HoldoutShare:0.###}");
            }
            notes.Add("conditions are judged on the customer as they are now (traits, phase, orders) and on the trigger event as it was");
        }
        return new CampaignExplanation(journey.ProfileId, journey.CustomerId, campaignId, campaign is not null, compiled.Version,
            campaign is null ? null : campaign.Trigger.Describe(rules.Current.Vocabulary), occurrences.OrderBy(o => o.OccurredAt).ToList(), notes);
    }

    /// <summary>The rules in force at <paramref name="at"/> as the store kept them (compiled once a call), else the current ones.</summary>
    async Task<(RuleSet Rules, string Version)> InForceAsync(DateTimeOffset at, CompiledRules current, Dictionary<string, (RuleSet, string)?> compiled,
        CancellationToken ct)
    {
        var then = await history.InForceAtAsync(at, ct);
        if (then is null || then.Version == current.Version || then.Sources is not { Count: > 0 } sources)
            return (current.Rules, current.Version);
        if (!compiled.TryGetValue(then.Version, out var rules))
        {
            try
            {
                rules = (RulesFiles.Compile(sources.Select(s => new RulesSource(s.Key, s.Value)).ToList()).Rules, then.Version);
            }
            catch (RulesRejectedException)
            {
                rules = null;   // taken by an older release that read it differently: judge by today's
            }
            compiled[then.Version] = rules;
        }
        return rules ?? (current.Rules, current.Version);
    }

    /// <summary>The occurrences of the campaign's trigger on the stored journey.</summary>
    static IEnumerable<TriggerOccurrence> Triggers(Campaign campaign, JourneyView journey, Dictionary<string, TimelineEventView> byId) => campaign.Trigger switch
    {
        EventTrigger e => journey.Timeline.Where(t => t.Type == e.EventType).Select(t =>
            new TriggerOccurrence(t.EventId, "event " + t.Type, t.OccurredAt, t.Properties as JsonObject, t.Context as JsonObject, t.Type)),
        PhaseEnteredTrigger p => journey.PhaseHistory.Where(h => h.Phase == p.Phase.ToName()).Select(h =>
        {
            var cause = byId.GetValueOrDefault(h.EventId);
            return new TriggerOccurrence(h.EventId, $"entered {h.Phase} (event {cause?.Type})", h.At, cause?.Properties as JsonObject, cause?.Context as JsonObject, cause?.Type);
        }),
        _ => [],
    };
    /// <summary>
    /// The send policy's reason for a step in a marketer's words, naming what the channel's description says (its consent
    /// traits, that it is a message); null for the others (a channel's own reason, an exit) which say it themselves.
    /// </summary>
    static string? Why(ActionView action)
    {
        if (action.Reason is not { } reason || Core.Channels.ChannelKinds.Find(action.Kind) is not { } kind)
            return null;
        var settings = action.Settings is JsonObject o ? o.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "") : [];
        var channel = kind.SentAs(settings) ?? kind;
        return reason switch
        {
            "holdout" => "the customer is in the campaign's holdout group (held out to measure its lift)",
            "consent" => $"no consent to {channel.Name} marketing: {channel.ConsentNames} is not true for this customer",
            _ when reason.Contains("window", StringComparison.Ordinal) => $"waits for the send window in the customer's time zone ({channel.Name} is a message)",
            _ when reason.StartsWith("cap: ", StringComparison.Ordinal) => $"the frequency cap on {channel.Name}: {reason[5..]} already",
            _ => null,
        };
    }
}

/// <summary>See <see cref="CampaignExplainer"/>.</summary>
public sealed record CampaignExplanation(string ProfileId, string? CustomerId, string CampaignId, bool InRules, string RulesVersion, string? Trigger,
    IReadOnlyList<OccurrenceExplanation> Occurrences, IReadOnlyList<string> Notes);

/// <summary>One trigger seen: the instance it started (<see cref="Started"/>, with its steps), or why none started.</summary>
public sealed record OccurrenceExplanation(string TriggerId, string? EventType, DateTimeOffset OccurredAt, bool Started, string? Reason, bool Holdout,
    string RulesVersion, IReadOnlyList<ConditionCheck> Conditions, IReadOnlyList<StepExplanation> Steps);

/// <summary>
/// One step of a started instance: its variant, what became of it, why (<see cref="Reason"/> as recorded, <see cref="Why"/>
/// in a marketer's words where the send policy decided it), and the event that cancelled it if one did.
/// </summary>
public sealed record StepExplanation(int Step, string Kind, int Variant, string Status, DateTimeOffset DueAt, DateTimeOffset? FinishedAt, string? Reason,
    string? CauseEventId, string? Why = null);
