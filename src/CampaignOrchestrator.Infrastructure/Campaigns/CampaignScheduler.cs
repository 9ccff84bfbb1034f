using System.Data.Common;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>A fresh event of a batch and the profile it landed on.</summary>
internal readonly record struct StoredEvent(AcceptedEvent Event, string ProfileId);

/// <summary>What a batch does to campaigns, written with the journey changes in the same transaction.</summary>
/// <param name="Actions">New steps (<see cref="CampaignScheduler.ActionColumns"/>); an instance that an exit already ended is written cancelled.</param>
/// <param name="Logs">Outcome-log rows of steps written cancelled at once.</param>
/// <param name="Exits">The batch's exit events: profile, campaign, key (null: any), occurredAt, eventId, reason.</param>
internal sealed record CampaignWrites(IReadOnlyList<object?[]> Actions, IReadOnlyList<object?[]> Logs, IReadOnlyList<object?[]> Exits)
{
    public bool IsEmpty => Actions.Count == 0 && Exits.Count == 0;
}

/// <summary>
/// Where rules are judged: inside the journey store's transaction, so an event's effects on the
/// journey and on campaigns commit together (a redelivered event, being a duplicate, schedules
/// nothing). Starts campaign instances for events and phases entered, writes every step as a
/// scheduled action with a stable actionId, and cancels pending steps when an exit event is
/// consumed, judged by occurredAt (an exit that happened before a late trigger cancels it at once);
/// audiences a cancelled instance joined are left again.
/// Planning reads (re-entry, earlier exits) take one round trip; the writes are plain statements
/// that PostgreSQL runs in the journey's final command.
/// </summary>
internal sealed class CampaignScheduler(Database database, ILogger logger)
{
    readonly SqlDialect sql = database.Dialect;

    internal static readonly string[] ActionColumns =
        ["action_id", "campaign_id", "step", "profile_id", "instance_key", "trigger_id", "triggered_at", "cause", "kind", "channel", "settings",
         "variant", "holdout", "transactional", "priority", "rules_version", "fingerprint", "planned_at", "due_at", "status", "finished_at",
         "reason", "cause_event_id", "created_at"];

    internal static readonly string[] LogColumns =
        ["action_id", "campaign_id", "step", "profile_id", "kind", "outcome", "at", "due_at", "next_due_at", "reason", "cause_event_id", "rules_version", "variant", "late_ms", "action_seq"];

    /// <summary>The unique index a new step must not collide with (the actionId already hashes campaign and customer).</summary>
    internal const string ActionConflict = "ON CONFLICT (profile_id, campaign_id, action_id) DO NOTHING";

    static readonly string[] ExitColumns = ["profile_id", "campaign_id", "instance_key", "at", "event_id", "reason"];

    /// <summary>The triggers in a batch's fresh events and phase changes.</summary>
    public static List<(Campaign Campaign, string ProfileId, TriggerOccurrence Trigger)> Occurrences(CompiledRules rules,
        IReadOnlyList<StoredEvent> fresh, IReadOnlyList<(string ProfileId, PhaseChange Change)> phasesEntered)
    {
        var occurrences = new List<(Campaign Campaign, string ProfileId, TriggerOccurrence Trigger)>();
        foreach (var (e, profileId) in fresh)
        {
            if (rules.ByEvent.TryGetValue(e.Type, out var campaigns))
                foreach (var campaign in campaigns)
                    occurrences.Add((campaign, profileId, new TriggerOccurrence(e.EventId, "event " + e.Type, e.OccurredAt, e.Properties, e.Context)));
        }
        Dictionary<string, AcceptedEvent>? byId = null;
        foreach (var (profileId, change) in phasesEntered)
        {
            if (!rules.ByPhase.TryGetValue(change.Phase, out var campaigns))
                continue;
            byId ??= fresh.ToDictionary(f => f.Event.EventId, f => f.Event, StringComparer.Ordinal);
            var cause = byId.GetValueOrDefault(change.EventId);
            foreach (var campaign in campaigns)
                occurrences.Add((campaign, profileId, new TriggerOccurrence(change.EventId, $"entered {change.Phase.ToName()} (event {cause?.Type})",
                    change.At, cause?.Properties, cause?.Context)));
        }
        return occurrences;
    }

    /// <summary>The batch's exits: events an exitOn names, and any activity of a customer (it ends what inactivity started).</summary>
    public static List<object?[]> Exits(CompiledRules rules, IReadOnlyList<StoredEvent> fresh)
    {
        var exits = new List<object?[]>();
        foreach (var (e, profileId) in fresh)
        {
            foreach (var campaign in rules.ExitsByEvent.GetValueOrDefault(e.Type) ?? [])
            {
                var key = campaign.Key is null ? null : KeyOf(campaign.Key, e.PropertiesJson, e.ContextJson);
                exits.Add([profileId, campaign.Id, key, e.OccurredAt, e.EventId, $"exit: {e.Type} at {e.OccurredAt:O}"]);
            }
            foreach (var campaign in rules.Inactivity)
                exits.Add([profileId, campaign.Id, null, e.OccurredAt, e.EventId, $"active again: {e.Type} at {e.OccurredAt:O}"]);
        }
        return exits;
    }

    /// <summary>
    /// Plans the instances <paramref name="occurrences"/> start (conditions, re-entry, variants, due times;
    /// cancelled at once when an exit happened after the trigger) and adds the <paramref name="exits"/> that can end something.
    /// </summary>
    /// <param name="mayBeLate">Whether the store may hold events of the customer after this time (a late trigger); only then are
    /// the customer's stored exit events read. Null: always (scans).</param>
    /// <param name="mergedInto">Devices this batch merged into a customer (device profile -> customer profile): their instances and
    /// events count as the customer's (they move with it in the same transaction, after this read).</param>
    public async Task<CampaignWrites> PlanAsync(DbConnection connection, DbTransaction tx, CompiledRules rules,
        IReadOnlyList<(Campaign Campaign, string ProfileId, TriggerOccurrence Trigger)> occurrences, IReadOnlyList<object?[]> exits,
        Func<string, JourneyProfile> profileOf, DateTimeOffset now, CancellationToken ct,
        Func<string, DateTimeOffset, bool>? mayBeLate = null, IReadOnlyDictionary<string, string>? mergedInto = null)
    {
        if (occurrences.Count == 0 && exits.Count == 0)
            return new CampaignWrites([], [], []);

        // One read for what planning needs: the earlier first steps of exactly the (customer, campaign) pairs the batch
        // starts or ends (re-entry, and whether an exit can end anything), and the stored exit events after late triggers.
        var pairs = new HashSet<(string ProfileId, string CampaignId)>();
        foreach (var (campaign, profileId, _) in occurrences)
            pairs.Add((profileId, campaign.Id));
        foreach (var x in exits)
            pairs.Add(((string)x[0]!, (string)x[1]!));
        var sourcesOf = mergedInto?.GroupBy(m => m.Value, m => m.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        foreach (var (profileId, campaignId) in pairs.ToList())
            foreach (var source in sourcesOf?.GetValueOrDefault(profileId) ?? [])
                pairs.Add((source, campaignId));
        var late = occurrences.Where(o => o.Campaign.ExitOn.Count > 0
            && (mayBeLate is null || mayBeLate(o.ProfileId, o.Trigger.OccurredAt) || sourcesOf?.ContainsKey(o.ProfileId) == true)).ToList();

        var text = new StringBuilder();
        var args = new DynamicParameters();
        var keys = pairs.ToArray();
        if (sql.Provider == StorageProvider.Postgres)
        {
            // Per pair an index lookup (the unique index starts with profile and campaign); OFFSET 0 keeps the planner from
            // turning it into a join that scans the table while it is still small.
            text.Append("SELECT k.p AS profile_id, k.c AS campaign_id, s.triggered_at FROM unnest(@kp::text[], @kc::text[]) AS k(p, c) " +
                "CROSS JOIN LATERAL (SELECT triggered_at FROM scheduled_actions WHERE profile_id = k.p AND campaign_id = k.c AND step = 1 OFFSET 0) s;");
            args.Add("kp", keys.Select(k => k.ProfileId).ToArray());
            args.Add("kc", keys.Select(k => k.CampaignId).ToArray());
        }
        else
        {
            // CROSS JOIN: SQLite loops over the pairs and looks each up in the unique index.
            text.Append("SELECT s.profile_id, s.campaign_id, s.triggered_at FROM jsonb_each(CAST(@k AS TEXT)) AS k " +
                "CROSS JOIN scheduled_actions AS s WHERE s.profile_id = k.value->>0 AND s.campaign_id = k.value->>1 AND s.step = 1;");
            args.Add("k", BulkRows.ToJson(sql, ["profile_id", "campaign_id"], keys.Select(k => new object?[] { k.ProfileId, k.CampaignId }).ToList()));
        }
        if (late.Count > 0)
        {
            var profiles = late.Select(o => o.ProfileId).Concat(late.SelectMany(o => sourcesOf?.GetValueOrDefault(o.ProfileId) ?? []))
                .Distinct(StringComparer.Ordinal).ToArray();
            text.Append($"SELECT profile_id, type, occurred_at, event_id, properties, context FROM events WHERE {sql.In("profile_id", "@xp")} " +
                $"AND {sql.In("type", "@xt")} AND occurred_at > @xfrom;");
            args.Add("xp", sql.List(profiles));
            args.Add("xt", sql.List(late.SelectMany(o => o.Campaign.ExitOn).Distinct(StringComparer.Ordinal).ToArray()));
            args.Add("xfrom", late.Min(o => o.Trigger.OccurredAt));
        }
        var starts = new Dictionary<(string, string), List<DateTimeOffset>>();
        var exitEvents = new List<ExitRow>();
        await using (var grid = await connection.QueryMultipleAsync(new CommandDefinition(text.ToString(), args, tx, cancellationToken: ct)))
        {
            foreach (var row in await grid.ReadAsync<StartRow>())
                StartsOf(starts, mergedInto?.GetValueOrDefault(row.ProfileId) ?? row.ProfileId, row.CampaignId).Add(row.TriggeredAt);
            if (late.Count > 0)
                foreach (var row in await grid.ReadAsync<ExitRow>())
                {
                    row.ProfileId = mergedInto?.GetValueOrDefault(row.ProfileId) ?? row.ProfileId;
                    exitEvents.Add(row);
                }
        }
        var existing = starts.Keys.ToHashSet();

        var actions = new List<object?[]>();
        var logs = new List<object?[]>();
        foreach (var (campaign, profileId, trigger) in occurrences.OrderBy(o => o.Trigger.OccurredAt))
        {
            var profile = profileOf(profileId);
            var customer = new CustomerState(profile.ProfileId, profile.CustomerId, profile.Traits, profile.Phase, profile.OrderCount, profile.OrderTotal);
            var earlier = StartsOf(starts, profileId, campaign.Id);
            var decision = CampaignPlanner.Plan(campaign, trigger, customer, rules.Rules.Defaults, earlier);
            if (decision.Plan is not { } plan)
            {
                Log.CampaignNotStarted(logger, campaign.Id, profile.CustomerId, trigger.TriggerId, decision.SkipReason!);
                continue;
            }
            earlier.Add(trigger.OccurredAt);

            var exit = campaign.ExitOn.Count == 0 ? null : exitEvents
                .Where(r => r.ProfileId == profileId && r.OccurredAt > trigger.OccurredAt && campaign.ExitOn.Contains(r.Type)
                    && (campaign.Key is null || KeyOf(campaign.Key, r.Properties, r.Context) is not { } key || key == plan.InstanceKey))
                .MinBy(r => r.OccurredAt);
            var reason = exit is null ? null : $"exit: {exit.Type} at {exit.OccurredAt:O} happened after the trigger";
            var cause = trigger.Description + (plan.Holdout ? "; holdout (control group)" : "");
            foreach (var action in plan.Actions)
            {
                var settings = action.Action.Kind == CompiledRules.DeriveKind ? DeriveSettingsJson(action.Action.Settings, trigger) : SettingsJson(action.Action.Settings);
                actions.Add([action.ActionId, campaign.Id, action.Step, profileId, plan.InstanceKey, trigger.TriggerId, trigger.OccurredAt, cause,
                    action.Action.Kind, SendPolicy.ChannelOf(action.Action), new RawJson(settings), action.Variant, plan.Holdout, campaign.Transactional,
                    campaign.Priority, rules.Version, rules.Fingerprints[campaign.Id], action.DueAt, action.DueAt,
                    exit is null ? ActionStatus.Pending : ActionStatus.Cancelled, exit is null ? null : now, reason, exit?.EventId, now]);
                if (exit is not null)
                    logs.Add([action.ActionId, campaign.Id, action.Step, profileId, action.Action.Kind, ActionStatus.Cancelled, now, action.DueAt, null, reason,
                        exit.EventId, rules.Version, action.Variant, null, null]);
            }
            Log.CampaignStarted(logger, campaign.Id, profile.CustomerId, trigger.TriggerId, plan.Actions.Count, exit is not null);
        }
        return new CampaignWrites(actions, logs, Relevant(exits, existing, actions));
    }

    /// <summary>
    /// Only the exits that can end something: the customer has an instance of that campaign (stored before, or started by
    /// this batch). Most events end nothing, and the statements that would look are skipped.
    /// </summary>
    static IReadOnlyList<object?[]> Relevant(IReadOnlyList<object?[]> exits, HashSet<(string, string)> existing, IReadOnlyList<object?[]> started)
    {
        if (exits.Count == 0)
            return exits;
        foreach (var a in started)
            existing.Add(((string)a[3]!, (string)a[1]!));
        return exits.Where(x => existing.Contains(((string)x[0]!, (string)x[1]!))).ToList();
    }

    // The exit statement: cancel the pending steps of the instances an exit ends (triggered before it,
    // same key when the exit carries one), and log each. Leave rows ("op": "leave") are never cancelled.
    const string ExitMatch =
        "scheduled_actions.profile_id = x.profile_id AND scheduled_actions.campaign_id = x.campaign_id " +
        "AND scheduled_actions.triggered_at < x.at AND (x.instance_key IS NULL OR scheduled_actions.instance_key = x.instance_key)";

    // Audiences joined by an instance that exits are left again: a pending, transactional copy of the
    // delivered retargeting step with "op": "leave", id 'leave-' + the step's id (so at most one).
    static string LeaveInsert(string source, string withLeave, string notLeave) =>
        $"INSERT INTO scheduled_actions ({string.Join(", ", ActionColumns)}) " +
        "SELECT 'leave-' || s.action_id, s.campaign_id, s.step, s.profile_id, s.instance_key, s.trigger_id, s.triggered_at, " +
        $"'leave audience: ' || x.reason, s.kind, s.channel, {withLeave}, s.variant, s.holdout, @yes, s.priority, s.rules_version, s.fingerprint, " +
        $"@cnow, @cnow, '{ActionStatus.Pending}', NULL, NULL, x.event_id, @cnow " +
        $"FROM scheduled_actions s JOIN {source} ON s.profile_id = x.profile_id AND s.campaign_id = x.campaign_id AND s.triggered_at < x.at " +
        "AND (x.instance_key IS NULL OR s.instance_key = x.instance_key) " +
        $"WHERE s.kind = 'retargeting' AND s.status = '{ActionStatus.Delivered}' AND {notLeave} {ActionConflict}";

    /// <summary>PostgreSQL: the writes as statements appended to the journey's final command (no results needed).</summary>
    public void AppendPostgres(StringBuilder text, DynamicParameters args, CampaignWrites w, DateTimeOffset now)
    {
        args.Add("cnow", now);
        AppendInsertsPostgres(text, args, w);
        AppendExitsPostgres(text, args, w);
    }

    void AppendInsertsPostgres(StringBuilder text, DynamicParameters args, CampaignWrites w)
    {
        if (w.Actions.Count > 0)
        {
            var (from, select) = BulkRows.Unnest(args, "ca", ActionColumns, w.Actions);
            var insert = $"INSERT INTO scheduled_actions ({string.Join(", ", ActionColumns)}) SELECT {select} FROM {from} {ActionConflict}";
            if (w.Logs.Count == 0)
                text.Append(insert).Append(';');
            else
            {
                // Log rows only for the steps this insert took (a redelivered trigger takes none).
                var (logFrom, _) = BulkRows.Unnest(args, "cl", LogColumns, w.Logs);
                text.Append($"WITH ins AS ({insert} RETURNING action_id, seq) INSERT INTO action_log ({string.Join(", ", LogColumns)}) " +
                    $"SELECT {string.Join(", ", LogColumns.Select(c => c == "action_seq" ? "ins.seq" : "cl." + c))} " +
                    $"FROM {logFrom} JOIN ins ON ins.action_id = cl.action_id;");
            }
        }
    }

    void AppendExitsPostgres(StringBuilder text, DynamicParameters args, CampaignWrites w)
    {
        if (w.Exits.Count > 0)
        {
            const string source = "json_to_recordset(@cx::json) AS x(profile_id text, campaign_id text, instance_key text, at timestamptz, event_id text, reason text)";
            args.Add("cx", BulkRows.ToJson(sql, ExitColumns, w.Exits));
            args.Add("yes", true);
            // One statement: the snapshot it reads is the same for both parts, so the leave rows it adds are not cancelled by it.
            text.Append($"WITH leave AS ({LeaveInsert(source, "(s.settings::jsonb || '{\"op\": \"leave\"}')::json", "s.settings->>'op' IS DISTINCT FROM 'leave'")} RETURNING 1), ");
            text.Append($"c AS (UPDATE scheduled_actions SET status = '{ActionStatus.Cancelled}', finished_at = @cnow, reason = x.reason, cause_event_id = x.event_id " +
                $"FROM {source} WHERE {ExitMatch} AND scheduled_actions.status = '{ActionStatus.Pending}' " +
                "RETURNING scheduled_actions.action_id, scheduled_actions.campaign_id, scheduled_actions.step, scheduled_actions.profile_id, scheduled_actions.kind, " +
                "scheduled_actions.rules_version, scheduled_actions.variant, scheduled_actions.due_at, x.reason, x.event_id, scheduled_actions.seq) " +
                $"INSERT INTO action_log ({string.Join(", ", LogColumns)}) SELECT action_id, campaign_id, step, profile_id, kind, '{ActionStatus.Cancelled}', @cnow, due_at, NULL, " +
                "reason, event_id, rules_version, variant, NULL, seq FROM c;");
        }
    }

    /// <summary>SQLite: the same writes, one statement each (no round trips in process).</summary>
    /// <returns>How many new steps it wrote.</returns>
    public async Task<int> WriteSqliteAsync(DbConnection connection, DbTransaction tx, CampaignWrites w, DateTimeOffset now, CancellationToken ct)
    {
        var inserted = await InsertActionsAsync(connection, tx, w, ct);
        if (w.Exits.Count == 0)
            return inserted;
        const string source = "(SELECT value->>0 AS profile_id, value->>1 AS campaign_id, value->>2 AS instance_key, value->>3 AS at, " +
            "value->>4 AS event_id, value->>5 AS reason FROM jsonb_each(CAST(@rows AS TEXT))) AS x";
        var rows = BulkRows.ToJson(sql, ExitColumns, w.Exits);
        var (notInFlight, inflight) = database.NotInFlight("scheduled_actions.action_id");
        var cancelled = (await connection.QueryAsync<CancelledRow>(new CommandDefinition(
            $"UPDATE scheduled_actions SET status = '{ActionStatus.Cancelled}', finished_at = @now, reason = x.reason, cause_event_id = x.event_id " +
            $"FROM {source} WHERE {ExitMatch} AND scheduled_actions.status = '{ActionStatus.Pending}'{notInFlight} " +
            "RETURNING action_id, campaign_id, step, profile_id, kind, rules_version, variant, due_at, reason, cause_event_id, seq",
            new { rows, now, inflight }, tx, cancellationToken: ct))).ToList();
        await BulkRows.InsertAsync(connection, tx, sql, "action_log", LogColumns, cancelled.Select(c => new object?[]
        {
            c.ActionId, c.CampaignId, c.Step, c.ProfileId, c.Kind, ActionStatus.Cancelled, now, c.DueAt, null, c.Reason, c.CauseEventId, c.RulesVersion, c.Variant, null, c.Seq,
        }).ToList(), ct);
        // After the cancelling, so the leave rows stay pending.
        await connection.ExecuteAsync(new CommandDefinition(
            LeaveInsert(source, "json_set(s.settings, '$.op', 'leave')", "coalesce(s.settings->>'op', '') <> 'leave'"),
            new { rows, cnow = now, yes = true }, tx, cancellationToken: ct));
        foreach (var c in cancelled)
            Log.ActionCancelled(logger, c.ActionId, c.CampaignId, c.CauseEventId);
        return inserted;
    }

    async Task<int> InsertActionsAsync(DbConnection connection, DbTransaction tx, CampaignWrites w, CancellationToken ct)
    {
        if (w.Actions.Count == 0)
            return 0;
        var inserted = await BulkRows.InsertReturningAsync<(string ActionId, long Seq)>(connection, tx, sql, "scheduled_actions", ActionColumns, w.Actions,
            "action_id, seq", ct, ActionConflict);
        if (w.Logs.Count > 0)
        {
            // Log rows (steps written cancelled at once) only for the steps this insert took, with their seq.
            var seqs = inserted.ToDictionary(i => i.ActionId, i => i.Seq, StringComparer.Ordinal);
            await BulkRows.InsertAsync(connection, tx, sql, "action_log", LogColumns, w.Logs
                .Where(l => seqs.ContainsKey((string)l[0]!))
                .Select(l => { var row = (object?[])l.Clone(); row[^1] = seqs[(string)l[0]!]; return row; }).ToList(), ct);
        }
        return inserted.Count;
    }

    /// <summary>Writes <paramref name="w"/> in its own commands (inactivity and schedule starts).</summary>
    /// <returns>How many new steps it wrote (a trigger started again writes none).</returns>
    public async Task<int> WriteAsync(DbConnection connection, DbTransaction tx, CampaignWrites w, DateTimeOffset now, CancellationToken ct)
    {
        if (sql.Provider == StorageProvider.Sqlite)
            return await WriteSqliteAsync(connection, tx, w, now, ct);
        var inserted = await InsertActionsAsync(connection, tx, w, ct);
        if (w.Exits.Count > 0)
        {
            var (text, args) = (new StringBuilder(), new DynamicParameters());
            args.Add("cnow", now);
            AppendExitsPostgres(text, args, w);
            await connection.ExecuteAsync(new CommandDefinition(text.ToString(), args, tx, cancellationToken: ct));
        }
        return inserted;
    }

    static List<DateTimeOffset> StartsOf(Dictionary<(string, string), List<DateTimeOffset>> starts, string profileId, string campaignId)
    {
        if (!starts.TryGetValue((profileId, campaignId), out var list))
            starts[(profileId, campaignId)] = list = [];
        return list;
    }

    /// <summary>The key field's value on an event (<c>properties.cartId</c>), or null when the event does not carry it.</summary>
    static string? KeyOf(string keyField, string? propertiesJson, string? contextJson)
    {
        var subject = new ConditionSubject(EmptyTraits,
            propertiesJson is null ? null : JsonNode.Parse(propertiesJson) as JsonObject,
            contextJson is null ? null : JsonNode.Parse(contextJson) as JsonObject, null, 0, 0);
        return CampaignPlanner.KeyValue(ConditionEvaluator.Field(keyField, subject));
    }

    static readonly Dictionary<string, JsonNode?> EmptyTraits = [];

    internal static string SettingsJson(IReadOnlyDictionary<string, string> settings)
    {
        var o = new JsonObject();
        foreach (var (key, value) in settings)
            o[key] = value;
        return o.ToJsonString();
    }

    /// <summary>A derivation carries what the derived event needs: its type and the trigger's properties (the cart).</summary>
    static string DeriveSettingsJson(IReadOnlyDictionary<string, string> settings, TriggerOccurrence trigger)
    {
        var o = new JsonObject { ["type"] = settings["type"], ["derivedFrom"] = trigger.TriggerId };
        if (trigger.Properties is not null)
            o["properties"] = trigger.Properties.DeepClone();
        return o.ToJsonString();
    }

    internal sealed class StartRow
    {
        public string ProfileId { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public DateTimeOffset TriggeredAt { get; set; }
    }

    internal sealed class ExitRow
    {
        public string ProfileId { get; set; } = "";
        public string Type { get; set; } = "";
        public DateTimeOffset OccurredAt { get; set; }
        public string EventId { get; set; } = "";
        public string? Properties { get; set; }
        public string? Context { get; set; }
    }

    /// <summary>A step a cancelling statement returned (exits here, rule changes in RulesWatcher).</summary>
    internal sealed class CancelledRow
    {
        public string ActionId { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public int Step { get; set; }
        public string ProfileId { get; set; } = "";
        public string Kind { get; set; } = "";
        public string RulesVersion { get; set; } = "";
        public int Variant { get; set; }
        public DateTimeOffset DueAt { get; set; }
        public string? Reason { get; set; }
        public string? CauseEventId { get; set; }
        public long Seq { get; set; }
    }
}

/// <summary>The states of a scheduled action and the outcomes in its log.</summary>
public static class ActionStatus
{
    public const string Scheduled = "scheduled";
    public const string Pending = "pending";
    public const string Claimed = "claimed";
    public const string Deferred = "deferred";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Suppressed = "suppressed";
    public const string Cancelled = "cancelled";
    public const string Due = "due";
}
