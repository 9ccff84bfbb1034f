using CampaignOrchestrator.Infrastructure.Storage;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// One entry of an action's outcome log (<c>action_log</c>): per firing what it became (delivered, failed, suppressed,
/// deferred, with the due time and how late it was claimed), or that it was cancelled. Written and read with these names.
/// </summary>
internal sealed record ActionLogRow
{
    /// <summary>The columns written, in <see cref="Values"/> order (<c>seq</c> is the log's own row number).</summary>
    internal static readonly string[] Columns =
        ["action_id", "campaign_id", "step", "profile_id", "kind", "outcome", "at", "due_at", "next_due_at", "reason", "cause_event_id", "rules_version", "variant",
         "late_ms", "action_seq"];

    /// <summary>The log's row number (read only).</summary>
    public long Seq { get; init; }
    public string ActionId { get; init; } = "";
    public string CampaignId { get; init; } = "";
    public int Step { get; init; }
    public string ProfileId { get; init; } = "";
    public string Kind { get; init; } = "";
    /// <summary>An <see cref="ActionStatus"/>: delivered, failed, suppressed, deferred or cancelled.</summary>
    public string Outcome { get; init; } = "";
    public DateTimeOffset At { get; init; }
    /// <summary>When it fell due (a firing), or was due (a cancellation).</summary>
    public DateTimeOffset? DueAt { get; init; }
    /// <summary>Deferred: when it falls due again.</summary>
    public DateTimeOffset? NextDueAt { get; init; }
    public string? Reason { get; init; }
    /// <summary>The event that cancelled it (an exit).</summary>
    public string? CauseEventId { get; init; }
    public string? RulesVersion { get; init; }
    public int? Variant { get; init; }
    /// <summary>A firing: how long after its due time it was claimed; null for a cancellation.</summary>
    public long? LateMs { get; init; }
    /// <summary>The action's row number (<c>scheduled_actions.seq</c>).</summary>
    public long? ActionSeq { get; init; }

    /// <summary>The values in <see cref="Columns"/> order, for <see cref="BulkRows"/>.</summary>
    internal object?[] Values() =>
        [ActionId, CampaignId, Step, ProfileId, Kind, Outcome, At, DueAt, NextDueAt, Reason, CauseEventId, RulesVersion, Variant, LateMs, ActionSeq];
}
