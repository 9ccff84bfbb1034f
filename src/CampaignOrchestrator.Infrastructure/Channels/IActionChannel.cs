using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Infrastructure.Channels;

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

/// <summary>What a channel did with an action.</summary>
/// <param name="Delivered">True when the channel took it (sent, assigned, joined).</param>
/// <param name="Detail">A message id, a banner slot, or why it failed.</param>
/// <param name="RetryAt">Not delivered for a passing reason (the receiver is down, a circuit is open): the action waits,
/// pending, and falls due again then. Null with Delivered false: failed for good.</param>
public sealed record ChannelResult(bool Delivered, string? Detail, DateTimeOffset? RetryAt = null)
{
    public static ChannelResult Ok(string? detail = null) => new(true, detail);

    public static ChannelResult Failed(string reason) => new(false, reason);

    public static ChannelResult Later(string reason, DateTimeOffset retryAt) => new(false, reason, retryAt);

    /// <summary>Not sent on purpose (the address is on the suppression list): recorded suppressed, not failed.</summary>
    public static ChannelResult Suppress(string reason) => new(false, reason) { Suppressed = true };

    public bool Suppressed { get; init; }
}

/// <summary>
/// Delivers actions of some kinds (email, banner, offer, retargeting, webhook). Called once per due
/// action; an exception counts as a failure with its message.
/// </summary>
public interface IActionChannel
{
    /// <summary>True when this channel delivers actions of <paramref name="kind"/>.</summary>
    bool Handles(string kind);

    Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken);
}
