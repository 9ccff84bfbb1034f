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

    /// <summary>The device's id when the customer is not known (yet).</summary>
    public string? AnonymousId => CustomerId is null && ProfileId.StartsWith("a:", StringComparison.Ordinal) ? ProfileId[2..] : null;
}
