using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>An action that fell due and passed consent, window and caps: what a channel delivers.</summary>
/// <param name="ActionId">Stable: the same step for the same customer and trigger always has this id (an idempotency key for the channel).</param>
/// <param name="Settings">The action as the rules version that planned it wrote it (template, slot, audience, ...).</param>
/// <param name="Phase">The customer's phase when it fell due (null: no phase yet).</param>
/// <param name="Seq">The action's row number in the store: unique, never reused.</param>
public sealed record DueAction(
    string ActionId, string CampaignId, int Step, string ProfileId, string? CustomerId, string Kind, JsonObject Settings, int Variant,
    string TriggerId, string? InstanceKey, bool Transactional, DateTimeOffset DueAt, string RulesVersion, string? Phase = null, long Seq = 0)
{
    /// <summary>The customer's traits when the dispatcher read them (for messages); null: read them yourself.</summary>
    public IReadOnlyDictionary<string, JsonNode?>? Traits { get; init; }

    /// <summary>Whether the dispatcher read the triggering event with the claim (<see cref="Trigger"/>); false: read it yourself.</summary>
    public bool TriggerRead { get; init; }

    /// <summary>The event that started the instance, as stored (null when there is none: a scan's trigger), if <see cref="TriggerRead"/>.</summary>
    public TriggerEvent? Trigger { get; init; }

    /// <summary>The device's id when the customer is not known (yet).</summary>
    public string? AnonymousId => CustomerId is null && ProfileId.StartsWith("a:", StringComparison.Ordinal) ? ProfileId[2..] : null;
}

/// <summary>A stored event as a channel reads it: <c>properties</c> and <c>context</c> as JSON text.</summary>
public sealed class TriggerEvent
{
    public string EventId { get; set; } = "";
    public string Type { get; set; } = "";
    public DateTimeOffset OccurredAt { get; set; }
    public string? Properties { get; set; }
    public string? Context { get; set; }
}
