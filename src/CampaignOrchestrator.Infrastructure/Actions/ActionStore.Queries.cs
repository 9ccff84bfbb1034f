using System.Data.Common;
using System.Text.Json.Nodes;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Actions;

// Reads for the API, the sweepers and the dry run.
internal sealed partial class ActionStore
{
    /// <summary>
    /// Every action of a profile, newest trigger first, each with its life: scheduled (the action row),
    /// then per firing "due" (when it was claimed, how late) and what it became, or cancelled.
    /// </summary>
    public async Task<IReadOnlyList<ActionView>> ForProfileAsync(string profileId, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var actions = (await connection.QueryAsync<StoredAction>(new CommandDefinition(
            "SELECT seq, action_id, campaign_id, step, kind, settings, variant, holdout, transactional, instance_key, trigger_id, triggered_at, cause, planned_at, due_at, " +
            "status, finished_at, reason, cause_event_id, rules_version, created_at FROM scheduled_actions WHERE profile_id = @profileId " +
            "ORDER BY triggered_at DESC, campaign_id, step LIMIT @limit",
            new { profileId, limit }, cancellationToken: ct))).ToList();
        if (actions.Count == 0)
            return [];
        var log = (await connection.QueryAsync<ActionLogRow>(new CommandDefinition(
            $"SELECT action_seq, outcome, at, due_at, next_due_at, reason, cause_event_id, late_ms FROM action_log WHERE {_sql.In("action_seq", "@seqs")} ORDER BY seq",
            new { seqs = _sql.List(actions.Select(a => a.Seq).ToArray()) }, cancellationToken: ct))).ToLookup(l => l.ActionSeq);
        return actions.Select(a => new ActionView(a.ActionId, a.CampaignId, a.Step, a.Kind, ReadSettings(a.Settings), a.Variant, a.Holdout, a.Transactional,
            a.InstanceKey, a.TriggerId, a.TriggeredAt, a.PlannedAt, a.DueAt, a.Status, a.FinishedAt, a.Reason, a.CauseEventId, a.RulesVersion,
            Life(a, log[a.Seq]).ToList())).ToList();
    }

    /// <summary>A row's settings as JSON; a row another release wrote that does not parse is shown as its text.</summary>
    static JsonNode? ReadSettings(string settings)
    {
        try
        {
            return JsonNode.Parse(settings);
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(settings);
        }
    }

    static IEnumerable<ActionLogEntry> Life(StoredAction a, IEnumerable<ActionLogRow> log)
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

    /// <summary>Per step of a campaign: actions by status (the funnel), holdout and per-variant counts.</summary>
    public async Task<CampaignSummary> SummaryAsync(string campaignId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<CountRow>(new CommandDefinition(
            "SELECT step, kind, status, holdout, variant, count(*) AS count FROM scheduled_actions WHERE campaign_id = @campaignId GROUP BY step, kind, status, holdout, variant",
            new { campaignId }, cancellationToken: ct));
        var steps = rows.GroupBy(r => (r.Step, r.Kind)).OrderBy(g => g.Key.Step).Select(g => new StepSummary(g.Key.Step, g.Key.Kind,
            g.GroupBy(r => r.Status).ToDictionary(s => s.Key, s => s.Sum(r => r.Count)),
            g.Where(r => r.Holdout).Sum(r => r.Count),
            g.Where(r => !r.Holdout).GroupBy(r => r.Variant).OrderBy(v => v.Key).ToDictionary(v => v.Key, v => v.Sum(r => r.Count)))).ToList();
        return new CampaignSummary(campaignId, steps);
    }

    /// <summary>The campaign's outcome log after <paramref name="afterSeq"/>, oldest first (page on with the last seq).</summary>
    public async Task<IReadOnlyList<CampaignLogEntry>> LogAsync(string campaignId, string? outcome, long afterSeq, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var sql = "SELECT seq, action_id, step, profile_id, kind, outcome, at, due_at, next_due_at, reason, cause_event_id, rules_version, variant, late_ms FROM action_log " +
            "WHERE campaign_id = @campaignId AND seq > @afterSeq" + (outcome is null ? "" : " AND outcome = @outcome") + " ORDER BY seq LIMIT @limit";
        return (await connection.QueryAsync<ActionLogRow>(new CommandDefinition(sql, new { campaignId, afterSeq, outcome, limit }, cancellationToken: ct)))
            .Select(l => new CampaignLogEntry(l.Seq, l.ActionId, l.Step, l.ProfileId, l.Kind, l.Outcome, l.At, l.DueAt, l.NextDueAt, l.Reason, l.CauseEventId,
                l.RulesVersion, l.Variant, l.LateMs)).ToList();
    }

    /// <summary>The step, trigger and variant of the delivered actions of <paramref name="kind"/> of these customers, by actionId.</summary>
    public async Task<Dictionary<string, (int Step, string TriggerId, int Variant)>> DeliveredStepsAsync(DbConnection connection, DbTransaction tx,
        IReadOnlyCollection<string> profileIds, string kind, CancellationToken ct) =>
        (await connection.QueryAsync<(string ActionId, int Step, string TriggerId, int Variant)>(new CommandDefinition(
            $"SELECT action_id, step, trigger_id, variant FROM scheduled_actions WHERE {_sql.In("profile_id", "@p")} AND kind = @kind AND status = '{ActionStatus.Delivered}'",
            new { p = _sql.List(profileIds), kind }, tx, cancellationToken: ct)))
        .ToDictionary(r => r.ActionId, r => (r.Step, r.TriggerId, r.Variant), StringComparer.Ordinal);

    /// <summary>Pending actions of a campaign and/or a customer's profile, in row order after <paramref name="afterSeq"/>.</summary>
    public async Task<IReadOnlyList<PendingAction>> PendingAsync(string? campaignId, string? profileId, long afterSeq, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<PendingAction>(new CommandDefinition(
            "SELECT seq, action_id, campaign_id, step, profile_id, kind, due_at, trigger_id, rules_version FROM scheduled_actions " +
            $"WHERE status = '{ActionStatus.Pending}' AND seq > @afterSeq" +
            (campaignId is null ? "" : " AND campaign_id = @campaignId") + (profileId is null ? "" : " AND profile_id = @profileId") +
            " ORDER BY seq LIMIT @limit",
            new { campaignId, profileId, afterSeq, limit }, cancellationToken: ct))).ToList();
    }

    /// <summary>How many actions wait to be fired or are being fired (the backlog gauge).</summary>
    internal static Task<long> WaitingCountAsync(DbConnection connection, CancellationToken ct) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT count(*) FROM scheduled_actions WHERE status IN ('{ActionStatus.Pending}', '{ActionStatus.Claimed}')", cancellationToken: ct));

    /// <summary>When the next pending action falls due, or null when none is pending.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QuerySingleAsync<NextDue>(new CommandDefinition(
            $"SELECT min(due_at) AS at FROM scheduled_actions WHERE status IN ('{ActionStatus.Pending}', '{ActionStatus.Claimed}') AND status = '{ActionStatus.Pending}'",
            cancellationToken: ct))).At;
    }

    /// <summary>Every action's campaign, step, customer and what it became, in the order they were written (a preview's run).</summary>
    public async Task<IReadOnlyList<ActionState>> StatesAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<ActionState>(new CommandDefinition(
            "SELECT campaign_id, step, profile_id, status, reason FROM scheduled_actions ORDER BY seq", cancellationToken: ct))).ToList();
    }

    /// <summary>Every action, in the order they were written (the dry run's store is small).</summary>
    public async Task<IReadOnlyList<ScheduledStep>> AllStepsAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<ScheduledStep>(new CommandDefinition(
            "SELECT action_id, campaign_id, step, kind, settings, planned_at, cause, created_at FROM scheduled_actions ORDER BY created_at, campaign_id, step",
            cancellationToken: ct))).ToList();
    }

    /// <summary>The outcome log after <paramref name="afterSeq"/>, each entry with its action and customer.</summary>
    public async Task<IReadOnlyList<OutcomeEntry>> OutcomesAfterAsync(long afterSeq, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<OutcomeEntry>(new CommandDefinition(
            "SELECT l.seq, l.outcome, l.at, l.next_due_at, l.reason, a.campaign_id, a.step, a.kind, a.settings, p.customer_id, a.profile_id " +
            "FROM action_log l JOIN scheduled_actions a ON a.seq = l.action_seq LEFT JOIN profiles p ON p.profile_id = a.profile_id " +
            "WHERE l.seq > @afterSeq ORDER BY l.seq", new { afterSeq }, cancellationToken: ct))).ToList();
    }

    /// <summary>How many actions each campaign has in each status.</summary>
    public async Task<IReadOnlyList<(string CampaignId, string Status, long Count)>> StatusCountsAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<(string, string, long)>(new CommandDefinition(
            "SELECT campaign_id, status, count(*) FROM scheduled_actions GROUP BY campaign_id, status ORDER BY campaign_id, status", cancellationToken: ct))).ToList();
    }

    sealed class NextDue
    {
        public DateTimeOffset? At { get; set; }
    }

    sealed class StoredAction
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
}
