using CampaignOrchestrator.Infrastructure.Storage;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// A scheduled action as it is written: one step of a campaign instance for one customer (<c>scheduled_actions</c>,
/// migrations 0003 and 0005). An instance that an exit already ended is written cancelled at once.
/// </summary>
internal sealed record ActionRow
{
    /// <summary>The columns in <see cref="Values"/> order.</summary>
    internal static readonly string[] Columns =
        ["action_id", "campaign_id", "step", "profile_id", "instance_key", "trigger_id", "triggered_at", "cause", "kind", "channel", "settings",
         "variant", "holdout", "transactional", "priority", "rules_version", "fingerprint", "planned_at", "due_at", "status", "finished_at",
         "reason", "cause_event_id", "created_at", "trace_parent"];

    /// <summary>Stable: the same step for the same customer and trigger always has this id.</summary>
    public required string ActionId { get; init; }
    public required string CampaignId { get; init; }
    public required int Step { get; init; }
    public required string ProfileId { get; init; }
    public string? InstanceKey { get; init; }
    public required string TriggerId { get; init; }
    public required DateTimeOffset TriggeredAt { get; init; }
    /// <summary>What started the instance, in words (the API shows it).</summary>
    public required string Cause { get; init; }
    public required string Kind { get; init; }
    public required string Channel { get; init; }
    /// <summary>The step's settings as JSON text.</summary>
    public required string Settings { get; init; }
    public int Variant { get; init; }
    public bool Holdout { get; init; }
    public bool Transactional { get; init; }
    public int Priority { get; init; }
    public required string RulesVersion { get; init; }
    public required string Fingerprint { get; init; }
    public required DateTimeOffset PlannedAt { get; init; }
    public required DateTimeOffset DueAt { get; init; }
    public string Status { get; init; } = ActionStatus.Pending;
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Reason { get; init; }
    public string? CauseEventId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>The W3C traceparent of the causing event's trace (when tracing recorded it): the delivery links to it.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The values in <see cref="Columns"/> order, for <see cref="BulkRows"/>.</summary>
    internal object?[] Values() =>
        [ActionId, CampaignId, Step, ProfileId, InstanceKey, TriggerId, TriggeredAt, Cause, Kind, Channel, new RawJson(Settings),
         Variant, Holdout, Transactional, Priority, RulesVersion, Fingerprint, PlannedAt, DueAt, Status, FinishedAt,
         Reason, CauseEventId, CreatedAt, TraceParent];
}
