using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Journeys;

/// <summary>
/// The journey rules of wire contract v1, pure: traits merge newest-wins by occurredAt, the phase
/// moves only forward by the mapping (a <c>phase_reset</c> sets it, backwards too), a second order means loyalty, and the journey is ordered by
/// occurredAt, not arrival. The store loads, calls these, and writes the result.
/// </summary>
public static class JourneyEngine
{
    public const string Unsubscribed = "unsubscribed";

    /// <summary>Applies one new (not yet seen) event to a profile.</summary>
    public static void Apply(JourneyProfile profile, AcceptedEvent evt, PhaseModel model)
    {
        MergeTraits(profile, evt.Traits, evt.OccurredAt, evt.EventId);
        // "unsubscribed" (wire contract): the customer opted out of marketing email, as emailConsent false from then on;
        // a later consent_changed can give it back.
        if (evt.Type == Unsubscribed)
            MergeTraits(profile, new JsonObject { ["emailConsent"] = false }, evt.OccurredAt, evt.EventId);

        var inOrder = profile.EventCount == 0 || evt.OccurredAt >= profile.LastSeen;
        if (evt.Type == PhaseModel.OrderPlaced)
        {
            profile.OrderCount++;
            profile.OrderTotal += OrderTotalOf(evt);
        }

        if (evt.Type == PhaseModel.PhaseReset)
        {
            // A reset sets the phase, backwards too; a late one rewrites the history after it.
            var reset = PhaseModel.ResetTarget(evt.Properties) is { } named ? model.Fold(named) : (Phase?)null;
            if (reset is not null && (!inOrder || profile.NeedsPhaseReplay))
                profile.NeedsPhaseReplay = true;
            else if (reset is not null && profile.Phase != reset)
            {
                profile.Phase = reset;
                profile.PhaseSince = evt.OccurredAt;
                profile.AppendedPhaseChanges.Add(new PhaseChange(reset.Value, evt.OccurredAt, evt.EventId));
            }
        }
        else if (inOrder && !profile.NeedsPhaseReplay)
        {
            if (model.Map(evt.Type, profile.OrderCount) is { } target && (profile.Phase is null || target > profile.Phase))
            {
                profile.Phase = target;
                profile.PhaseSince = evt.OccurredAt;
                profile.AppendedPhaseChanges.Add(new PhaseChange(target, evt.OccurredAt, evt.EventId));
            }
        }
        else if (model.Map(evt.Type) is not null)
        {
            // A late event that maps to a phase can rewrite the history before it.
            profile.NeedsPhaseReplay = true;
        }

        if (profile.EventCount == 0 || evt.OccurredAt < profile.FirstSeen)
            profile.FirstSeen = evt.OccurredAt;
        if (profile.EventCount == 0 || evt.OccurredAt > profile.LastSeen)
            profile.LastSeen = evt.OccurredAt;
        profile.EventCount++;
    }

    /// <summary>
    /// Merges an anonymous device's profile into the known customer's (cross-device journeys).
    /// Traits keep the newest value per key; the phase history is replayed over both timelines.
    /// </summary>
    public static void Merge(JourneyProfile target, JourneyProfile source)
    {
        foreach (var (key, at) in source.TraitTimes)
        {
            if (!target.TraitTimes.TryGetValue(key, out var existing) || at > existing)
            {
                target.Traits[key] = source.Traits.GetValueOrDefault(key)?.DeepClone();
                target.TraitTimes[key] = at;
                target.StoredTraitsJson = null;
            }
        }
        if (source.EventCount > 0)
        {
            target.FirstSeen = target.EventCount == 0 || source.FirstSeen < target.FirstSeen ? source.FirstSeen : target.FirstSeen;
            target.LastSeen = target.EventCount == 0 || source.LastSeen > target.LastSeen ? source.LastSeen : target.LastSeen;
        }
        target.EventCount += source.EventCount;
        target.OrderCount += source.OrderCount;
        target.OrderTotal += source.OrderTotal;
        if (source.Phase is not null || source.NeedsPhaseReplay)
            target.NeedsPhaseReplay = true;
    }

    /// <summary>
    /// Recomputes the phase history from a whole timeline in occurredAt order (ties in arrival order).
    /// </summary>
    /// <returns>The history, oldest first, and the number of orders.</returns>
    public static (IReadOnlyList<PhaseChange> History, int OrderCount) Replay(IEnumerable<TimelineEntry> timeline, PhaseModel model)
    {
        var history = new List<PhaseChange>();
        Phase? current = null;
        var orders = 0;
        foreach (var entry in timeline)
        {
            if (entry.Type == PhaseModel.OrderPlaced)
                orders++;
            if (entry.Type == PhaseModel.PhaseReset)
            {
                if (entry.ResetTo is { } named && model.Fold(named) is var reset && reset != current)
                {
                    current = reset;
                    history.Add(new PhaseChange(reset, entry.OccurredAt, entry.EventId));
                }
            }
            else if (model.Map(entry.Type, orders) is { } target && (current is null || target > current))
            {
                current = target;
                history.Add(new PhaseChange(target, entry.OccurredAt, entry.EventId));
            }
        }
        return (history, orders);
    }

    /// <summary>Sets the phase fields of <paramref name="profile"/> from a replayed history.</summary>
    public static void ApplyReplay(JourneyProfile profile, IReadOnlyList<PhaseChange> history, int orderCount)
    {
        profile.OrderCount = orderCount;
        profile.Phase = history.Count > 0 ? history[^1].Phase : null;
        profile.PhaseSince = history.Count > 0 ? history[^1].At : null;
        profile.AppendedPhaseChanges.Clear();
        profile.NeedsPhaseReplay = false;
    }

    /// <summary>An order's <c>properties.total</c> when it is a number (or numeric text), else 0.</summary>
    public static decimal OrderTotalOf(AcceptedEvent evt)
    {
        if (evt.PropertiesJson is null || !evt.PropertiesJson.Contains("\"total\"", StringComparison.Ordinal))
            return 0;
        return TotalOf(evt.Properties);
    }

    /// <summary><c>properties.total</c> when it is a number (or numeric text), else 0: an order's value, the revenue a campaign is credited with.</summary>
    public static decimal TotalOf(JsonObject? properties) =>
        properties?["total"] is JsonValue v
            && (v.TryGetValue<decimal>(out var d) || (v.TryGetValue<string>(out var text)
                && decimal.TryParse(text, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out d)))
            ? d : 0;

    static void MergeTraits(JourneyProfile profile, JsonObject? traits, DateTimeOffset at, string eventId)
    {
        if (traits is null)
            return;
        var added = traits.Count(t => !profile.Traits.ContainsKey(t.Key));
        if (added > 0 && profile.Traits.Count + added > Events.EventLimits.MaxProfileTraits)
            throw new Events.JourneyEventRejectedException(
                $"traits: the customer would hold {profile.Traits.Count + added} traits; the limit is {Events.EventLimits.MaxProfileTraits}", eventId);
        foreach (var (key, value) in traits)
        {
            if (profile.TraitTimes.TryGetValue(key, out var existing) && existing > at)
                continue;
            profile.Traits[key] = value?.DeepClone();
            profile.TraitTimes[key] = at;
            profile.StoredTraitsJson = null;
        }
    }
}
