using CampaignOrchestrator.Contracts.Outbound;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// What a channel did with an action, and what it asks to be written with the outcome: the outbound events that
/// announce it and the rows it keeps. The dispatcher writes both in the transaction that records the outcome, and only
/// while its claim holds, so a placement, an offer or an event exists exactly when its action is recorded.
/// </summary>
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

    /// <summary>Events for the <c>campaign-actions</c> exchange, through the outbox.</summary>
    public IReadOnlyList<ICampaignActionEvent> Events { get; init; } = [];

    /// <summary>Rows of the channel's own tables.</summary>
    public IReadOnlyList<StoredRow> Rows { get; init; } = [];

    /// <summary>This result, also announcing <paramref name="events"/>.</summary>
    public ChannelResult Announcing(params ICampaignActionEvent[] events) => this with { Events = [.. Events, .. events] };

    /// <summary>This result, also keeping <paramref name="rows"/>.</summary>
    public ChannelResult Keeping(params StoredRow[] rows) => this with { Rows = [.. Rows, .. rows] };
}
