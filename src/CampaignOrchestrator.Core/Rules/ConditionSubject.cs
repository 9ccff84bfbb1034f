using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>What a condition can look at: the customer and the trigger event.</summary>
/// <param name="Traits">The profile's traits (<c>traits.*</c>).</param>
/// <param name="Properties">The trigger event's properties (<c>properties.*</c>); null when there is no trigger event (schedules).</param>
/// <param name="Context">The trigger event's context (<c>context.*</c>).</param>
/// <param name="EventType">The trigger event's type (<c>event.type</c>): for a phase entered, the event that moved the customer; null without one.</param>
public sealed record ConditionSubject(
    IReadOnlyDictionary<string, JsonNode?> Traits, JsonObject? Properties, JsonObject? Context, Phase? Phase, int OrderCount, decimal OrderTotal,
    string? EventType = null)
{
    /// <summary>A customer as the store holds them (traits as JSON text, the phase by name), without a trigger event: what a segment judges.</summary>
    public static ConditionSubject OfCustomer(string traitsJson, string? phase, int orderCount, decimal orderTotal) =>
        new((JsonNode.Parse(traitsJson) as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [], null, null,
            PhaseNames.TryParse(phase, out var p) ? p : null, orderCount, orderTotal);
}
