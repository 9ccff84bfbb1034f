namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>The states of a scheduled action (<c>scheduled_actions.status</c>) and the outcomes in its log (<c>action_log.outcome</c>).</summary>
public static class ActionStatus
{
    /// <summary>Only in an action's life as the API shows it: when it was written.</summary>
    public const string Scheduled = "scheduled";

    /// <summary>Waiting for its due time (also after a deferral: the log says deferred).</summary>
    public const string Pending = "pending";

    /// <summary>Taken by a dispatcher (PostgreSQL; SQLite keeps claims in memory).</summary>
    public const string Claimed = "claimed";

    /// <summary>A log outcome: not delivered now (send window, a passing failure); pending again with a new due time.</summary>
    public const string Deferred = "deferred";

    public const string Delivered = "delivered";

    /// <summary>Failed for good.</summary>
    public const string Failed = "failed";

    /// <summary>Not delivered on purpose: holdout, no consent, a frequency cap, the suppression list.</summary>
    public const string Suppressed = "suppressed";

    /// <summary>Ended before it fell due: an exit, a rules change.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Only in an action's life as the API shows it: when it was claimed, and how late.</summary>
    public const string Due = "due";
}
