using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>One entry of an action's life.</summary>
public sealed record ActionLogEntry(string Outcome, DateTimeOffset At, DateTimeOffset? DueAt, string? Reason, string? CauseEventId, long? LateMs);

/// <summary>A scheduled action as operators and marketers see it, with its life so far.</summary>
public sealed record ActionView(
    string ActionId, string CampaignId, int Step, string Kind, JsonNode? Settings, int Variant, bool Holdout, bool Transactional,
    string? InstanceKey, string TriggerId, DateTimeOffset TriggeredAt, DateTimeOffset PlannedAt, DateTimeOffset DueAt, string Status,
    DateTimeOffset? FinishedAt, string? Reason, string? CauseEventId, string RulesVersion, IReadOnlyList<ActionLogEntry> Log);

/// <summary>A campaign's funnel: how many steps reached each state, per step.</summary>
public sealed record CampaignSummary(string CampaignId, IReadOnlyList<StepSummary> Steps);

/// <summary>Counts of one step's actions by current status, and of holdout (control) instances.</summary>
public sealed record StepSummary(int Step, string Kind, IReadOnlyDictionary<string, long> ByStatus, long Holdout, long Variant0, long Variant1Plus);

/// <summary>
/// A page of one campaign's outcome log: what happened to its actions after they were scheduled (cancelled;
/// per firing: delivered, failed, suppressed, deferred, with the due time and how late). The scheduled
/// actions themselves are counted in the funnel (<see cref="CampaignSummary"/>).
/// </summary>
public sealed record CampaignLogEntry(long Seq, string ActionId, int Step, string ProfileId, string Kind, string Outcome, DateTimeOffset At,
    DateTimeOffset? DueAt, DateTimeOffset? NextDueAt, string? Reason, string? CauseEventId, string? RulesVersion, int? Variant, long? LateMs);

/// <summary>Reads scheduled actions and the outcome log for the API.</summary>
internal sealed class CampaignQueries(Database database)
{
    readonly SqlDialect _sql = database.Dialect;

    /// <summary>
    /// Every action of a profile, newest trigger first, each with its life: scheduled (the action row),
    /// then per firing "due" (when it was claimed, how late) and what it became, or cancelled.
    /// </summary>
    public async Task<IReadOnlyList<ActionView>> ForProfileAsync(string profileId, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var actions = (await connection.QueryAsync<ActionRow>(new CommandDefinition(
            "SELECT seq, action_id, campaign_id, step, kind, settings, variant, holdout, transactional, instance_key, trigger_id, triggered_at, cause, planned_at, due_at, " +
            "status, finished_at, reason, cause_event_id, rules_version, created_at FROM scheduled_actions WHERE profile_id = @profileId " +
            "ORDER BY triggered_at DESC, campaign_id, step LIMIT @limit",
            new { profileId, limit }, cancellationToken: ct))).ToList();
        if (actions.Count == 0)
            return [];
        var log = (await connection.QueryAsync<LogRow>(new CommandDefinition(
            $"SELECT action_seq, outcome, at, due_at, next_due_at, reason, cause_event_id, late_ms FROM action_log WHERE {_sql.In("action_seq", "@seqs")} ORDER BY seq",
            new { seqs = _sql.List(actions.Select(a => a.Seq).ToArray()) }, cancellationToken: ct))).ToLookup(l => l.ActionSeq);
        return actions.Select(a => new ActionView(a.ActionId, a.CampaignId, a.Step, a.Kind, JsonNode.Parse(a.Settings), a.Variant, a.Holdout, a.Transactional,
            a.InstanceKey, a.TriggerId, a.TriggeredAt, a.PlannedAt, a.DueAt, a.Status, a.FinishedAt, a.Reason, a.CauseEventId, a.RulesVersion,
            Life(a, log[a.Seq]).ToList())).ToList();
    }

    static IEnumerable<ActionLogEntry> Life(ActionRow a, IEnumerable<LogRow> log)
    {
        yield return new ActionLogEntry(ActionStatus.Scheduled, a.CreatedAt, a.PlannedAt, a.Cause, a.TriggerId, null);
        foreach (var l in log)
        {
            if (l.LateMs is { } late && l.DueAt is { } due)
            {
                // A firing: it fell due (was claimed) late_ms after its due time, then became the outcome.
                var lateNote = l.Reason?.StartsWith("late:", StringComparison.Ordinal) == true ? l.Reason.Split("; ", 2)[0] : null;
                yield return new ActionLogEntry(ActionStatus.Due, due.AddMilliseconds(late), due, lateNote, null, late);
                var rest = lateNote is null ? l.Reason : l.Reason!.Length > lateNote.Length + 2 ? l.Reason[(lateNote.Length + 2)..] : null;
                yield return new ActionLogEntry(l.Outcome, l.At, l.NextDueAt, rest, l.CauseEventId, null);
            }
            else
                yield return new ActionLogEntry(l.Outcome, l.At, l.DueAt, l.Reason, l.CauseEventId, null);
        }
    }

    /// <summary>Per step of a campaign: actions by status (the funnel), holdout and variant counts.</summary>
    public async Task<CampaignSummary> SummaryAsync(string campaignId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<CountRow>(new CommandDefinition(
            "SELECT step, kind, status, holdout, variant, count(*) AS count FROM scheduled_actions WHERE campaign_id = @campaignId GROUP BY step, kind, status, holdout, variant",
            new { campaignId }, cancellationToken: ct));
        var steps = rows.GroupBy(r => (r.Step, r.Kind)).OrderBy(g => g.Key.Step).Select(g => new StepSummary(g.Key.Step, g.Key.Kind,
            g.GroupBy(r => r.Status).ToDictionary(s => s.Key, s => s.Sum(r => r.Count)),
            g.Where(r => r.Holdout).Sum(r => r.Count), g.Where(r => r.Variant == 0).Sum(r => r.Count), g.Where(r => r.Variant > 0).Sum(r => r.Count))).ToList();
        return new CampaignSummary(campaignId, steps);
    }

    /// <summary>The campaign's outcome log after <paramref name="afterSeq"/>, oldest first (page on with the last seq).</summary>
    public async Task<IReadOnlyList<CampaignLogEntry>> LogAsync(string campaignId, string? outcome, long afterSeq, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var sql = "SELECT seq, action_id, step, profile_id, kind, outcome, at, due_at, next_due_at, reason, cause_event_id, rules_version, variant, late_ms FROM action_log " +
            "WHERE campaign_id = @campaignId AND seq > @afterSeq" + (outcome is null ? "" : " AND outcome = @outcome") + " ORDER BY seq LIMIT @limit";
        return (await connection.QueryAsync<LogRow>(new CommandDefinition(sql, new { campaignId, afterSeq, outcome, limit }, cancellationToken: ct)))
            .Select(l => new CampaignLogEntry(l.Seq, l.ActionId, l.Step, l.ProfileId, l.Kind, l.Outcome, l.At, l.DueAt, l.NextDueAt, l.Reason, l.CauseEventId,
                l.RulesVersion, l.Variant, l.LateMs)).ToList();
    }

    sealed class ActionRow
    {
        public long Seq { get; set; }
        public string ActionId { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public int Step { get; set; }
        public string Kind { get; set; } = "";
        public string Settings { get; set; } = "{}";
        public int Variant { get; set; }
        public bool Holdout { get; set; }
        public bool Transactional { get; set; }
        public string? InstanceKey { get; set; }
        public string TriggerId { get; set; } = "";
        public DateTimeOffset TriggeredAt { get; set; }
        public string Cause { get; set; } = "";
        public DateTimeOffset CreatedAt { get; set; }
        public DateTimeOffset PlannedAt { get; set; }
        public DateTimeOffset DueAt { get; set; }
        public string Status { get; set; } = "";
        public DateTimeOffset? FinishedAt { get; set; }
        public string? Reason { get; set; }
        public string? CauseEventId { get; set; }
        public string RulesVersion { get; set; } = "";
    }

    sealed class CountRow
    {
        public int Step { get; set; }
        public string Kind { get; set; } = "";
        public string Status { get; set; } = "";
        public bool Holdout { get; set; }
        public int Variant { get; set; }
        public long Count { get; set; }
    }

    sealed class LogRow
    {
        public long Seq { get; set; }
        public long? ActionSeq { get; set; }
        public int Step { get; set; }
        public string ProfileId { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? RulesVersion { get; set; }
        public int? Variant { get; set; }
        public string ActionId { get; set; } = "";
        public string Outcome { get; set; } = "";
        public DateTimeOffset At { get; set; }
        public DateTimeOffset? DueAt { get; set; }
        public DateTimeOffset? NextDueAt { get; set; }
        public string? Reason { get; set; }
        public string? CauseEventId { get; set; }
        public long? LateMs { get; set; }
    }
}
