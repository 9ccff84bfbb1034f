using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>
/// Which campaigns a batch's fresh events and phase changes start, and which instances they end: pure matching of the
/// rules' triggers, exits and keys (docs/rules.md). The store reads what it needs and writes the outcome.
/// </summary>
public static class CampaignTriggers
{
    /// <summary>The triggers in a batch's fresh events and the phases they made customers enter, in that order.</summary>
    public static List<CampaignStart> Occurrences(CompiledRules rules, IReadOnlyList<StoredEvent> fresh,
        IReadOnlyList<(string ProfileId, PhaseChange Change)> phasesEntered)
    {
        var occurrences = new List<CampaignStart>();
        foreach (var (e, profileId) in fresh)
        {
            if (rules.ByEvent.TryGetValue(e.Type, out var campaigns))
                foreach (var campaign in campaigns)
                    occurrences.Add(new(campaign, profileId, new TriggerOccurrence(e.EventId, "event " + e.Type, e.OccurredAt, e.Properties, e.Context, e.Type)));
        }
        Dictionary<string, Events.AcceptedEvent>? byId = null;
        foreach (var (profileId, change) in phasesEntered)
        {
            if (!rules.ByPhase.TryGetValue(change.Phase, out var campaigns))
                continue;
            byId ??= fresh.ToDictionary(f => f.Event.EventId, f => f.Event, StringComparer.Ordinal);
            var cause = byId.GetValueOrDefault(change.EventId);
            foreach (var campaign in campaigns)
                occurrences.Add(new(campaign, profileId, new TriggerOccurrence(change.EventId, $"entered {change.Phase.ToName()} (event {cause?.Type})",
                    change.At, cause?.Properties, cause?.Context, cause?.Type)));
        }
        return occurrences;
    }

    /// <summary>The batch's exits: events an <c>exitOn</c> names, and any activity of a customer (it ends what inactivity started).</summary>
    public static List<CampaignExit> Exits(CompiledRules rules, IReadOnlyList<StoredEvent> fresh)
    {
        var exits = new List<CampaignExit>();
        foreach (var (e, profileId) in fresh)
        {
            foreach (var campaign in rules.ExitsByEvent.GetValueOrDefault(e.Type) ?? [])
            {
                var key = campaign.Key is null ? null : KeyOf(campaign.Key, e.PropertiesJson, e.ContextJson);
                exits.Add(new(profileId, campaign.Id, key, e.OccurredAt, e.EventId, $"exit: {e.Type} at {e.OccurredAt:O}"));
            }
            foreach (var campaign in rules.Inactivity)
                exits.Add(new(profileId, campaign.Id, null, e.OccurredAt, e.EventId, $"active again: {e.Type} at {e.OccurredAt:O}"));
        }
        return exits;
    }

    /// <summary>
    /// The earliest of <paramref name="stored"/> that ends an instance of <paramref name="campaign"/> started by
    /// <paramref name="trigger"/> for <paramref name="profileId"/> (an exit that happened after a late trigger: the
    /// instance is cancelled at once), or null. An exit event without the campaign's key ends every instance.
    /// </summary>
    public static ExitEvent? FirstExitAfter(Campaign campaign, string profileId, TriggerOccurrence trigger, string? instanceKey, IEnumerable<ExitEvent> stored) =>
        campaign.ExitOn.Count == 0
            ? null
            : stored.Where(r => r.ProfileId == profileId && r.OccurredAt > trigger.OccurredAt && campaign.ExitOn.Contains(r.Type)
                    && (campaign.Key is null || KeyOf(campaign.Key, r.PropertiesJson, r.ContextJson) is not { } key || key == instanceKey))
                .MinBy(r => r.OccurredAt);

    /// <summary>The key field's value on an event (<c>properties.cartId</c>), or null when the event does not carry it.</summary>
    public static string? KeyOf(string keyField, string? propertiesJson, string? contextJson)
    {
        var subject = new ConditionSubject(EmptyTraits,
            propertiesJson is null ? null : JsonNode.Parse(propertiesJson) as JsonObject,
            contextJson is null ? null : JsonNode.Parse(contextJson) as JsonObject, null, 0, 0);
        return CampaignPlanner.KeyValue(ConditionEvaluator.Field(keyField, subject));
    }

    /// <summary>A step's settings as stored: the rules' strings as a JSON object.</summary>
    public static string SettingsJson(IReadOnlyDictionary<string, string> settings)
    {
        var o = new JsonObject();
        foreach (var (key, value) in settings)
            o[key] = value;
        return o.ToJsonString();
    }

    /// <summary>A derivation carries what the derived event needs: its type and the trigger's properties (the cart).</summary>
    public static string DeriveSettingsJson(IReadOnlyDictionary<string, string> settings, TriggerOccurrence trigger)
    {
        var o = new JsonObject { ["type"] = settings["type"], ["derivedFrom"] = trigger.TriggerId };
        if (trigger.Properties is not null)
            o["properties"] = trigger.Properties.DeepClone();
        return o.ToJsonString();
    }

    static readonly Dictionary<string, JsonNode?> EmptyTraits = [];
}
