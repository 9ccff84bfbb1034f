using System.Data.Common;
using System.Text.Json;
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

/// <summary>
/// Where rules are judged: inside the journey store's transaction, so an event's effects on the
/// journey and on campaigns commit together (a redelivered event, being a duplicate, schedules
/// nothing). Starts campaign instances for events and phases entered, writes every step as a
/// scheduled action with a stable actionId, and cancels pending steps when an exit event is
/// consumed, judged by occurredAt (an exit that happened before a late trigger cancels it at once).
/// </summary>
internal sealed class CampaignScheduler(SqlDialect sql, ILogger logger)
{
    static readonly string[] InstanceColumns =
        ["instance_id", "profile_id", "campaign_id", "instance_key", "trigger_id", "triggered_at", "rules_version", "holdout", "created_at"];

    internal static readonly string[] ActionColumns =
        ["action_id", "instance_id", "campaign_id", "step", "profile_id", "instance_key", "trigger_id", "triggered_at", "kind", "channel", "settings",
         "variant", "holdout", "transactional", "priority", "rules_version", "fingerprint", "planned_at", "due_at", "status", "finished_at",
         "reason", "cause_event_id", "created_at"];

    internal static readonly string[] LogColumns =
        ["action_id", "campaign_id", "step", "profile_id", "kind", "outcome", "at", "due_at", "reason", "cause_event_id", "rules_version", "variant", "late_ms"];

    /// <summary>Judges the batch's fresh events and phase changes against <paramref name="rules"/>.</summary>
    /// <returns>How many steps were scheduled and how many cancelled.</returns>
    public async Task<(int Scheduled, int Cancelled)> ApplyAsync(DbConnection connection, DbTransaction tx, CompiledRules rules,
        IReadOnlyList<StoredEvent> fresh, IReadOnlyList<(string ProfileId, PhaseChange Change)> phasesEntered,
        Func<string, JourneyProfile> profileOf, DateTimeOffset now, CancellationToken ct)
    {
        if (rules.Campaigns.Count == 0)
            return (0, 0);

        // 1. Triggers: events of a campaign's trigger type, and phases entered.
        var occurrences = new List<(Campaign Campaign, string ProfileId, TriggerOccurrence Trigger)>();
        Dictionary<string, AcceptedEvent>? byId = null;
        foreach (var (e, profileId) in fresh)
        {
            if (rules.ByEvent.TryGetValue(e.Type, out var campaigns))
                foreach (var campaign in campaigns)
                    occurrences.Add((campaign, profileId, new TriggerOccurrence(e.EventId, "event " + e.Type, e.OccurredAt, e.Properties, e.Context)));
        }
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

        var scheduled = 0;
        if (occurrences.Count > 0)
            scheduled = await StartAsync(connection, tx, rules, occurrences, profileOf, now, ct);
        var cancelled = await ExitAsync(connection, tx, rules, fresh, now, ct);
        return (scheduled, cancelled);
    }

    /// <summary>Starts campaign instances for <paramref name="occurrences"/> (re-entry, conditions, late exits) and writes their steps.</summary>
    public async Task<int> StartAsync(DbConnection connection, DbTransaction tx, CompiledRules rules,
        IReadOnlyList<(Campaign Campaign, string ProfileId, TriggerOccurrence Trigger)> occurrences, Func<string, JourneyProfile> profileOf,
        DateTimeOffset now, CancellationToken ct)
    {
        // 2. Re-entry is judged on the instances started before (stored, or earlier in this batch).
        var starts = new Dictionary<(string, string), List<DateTimeOffset>>();
        {
            var profileIds = occurrences.Select(o => o.ProfileId).Distinct(StringComparer.Ordinal).ToArray();
            var campaignIds = occurrences.Select(o => o.Campaign.Id).Distinct(StringComparer.Ordinal).ToArray();
            var rows = await connection.QueryAsync<(string ProfileId, string CampaignId, DateTimeOffset TriggeredAt)>(new CommandDefinition(
                $"SELECT profile_id, campaign_id, triggered_at FROM campaign_instances WHERE {sql.In("profile_id", "@p")} AND {sql.In("campaign_id", "@c")}",
                new { p = sql.List(profileIds), c = sql.List(campaignIds) }, tx, cancellationToken: ct));
            foreach (var row in rows)
                StartsOf(starts, row.ProfileId, row.CampaignId).Add(row.TriggeredAt);
        }

        // 3. Plan, oldest trigger first.
        var plans = new List<(InstancePlan Plan, string ProfileId, TriggerOccurrence Trigger)>();
        foreach (var (campaign, profileId, trigger) in occurrences.OrderBy(o => o.Trigger.OccurredAt))
        {
            var profile = profileOf(profileId);
            var customer = new CustomerState(profile.ProfileId, profile.CustomerId, profile.Traits, profile.Phase, profile.OrderCount, profile.OrderTotal);
            var earlier = StartsOf(starts, profileId, campaign.Id);
            var decision = CampaignPlanner.Plan(campaign, trigger, customer, rules.Rules.Defaults, earlier);
            if (decision.Plan is null)
            {
                Log.CampaignNotStarted(logger, campaign.Id, profile.CustomerId, trigger.TriggerId, decision.SkipReason!);
                continue;
            }
            earlier.Add(trigger.OccurredAt);
            plans.Add((decision.Plan, profileId, trigger));
        }
        if (plans.Count == 0)
            return 0;

        // 4. An exit event that happened after the trigger, but was consumed before it (a late
        //    trigger), cancels the instance at once.
        var exitedBy = await FindEarlierExitsAsync(connection, tx, plans, ct);

        var instances = new List<object?[]>(plans.Count);
        var actions = new List<object?[]>();
        var logs = new List<object?[]>();
        foreach (var (plan, profileId, trigger) in plans)
        {
            var campaign = plan.Campaign;
            instances.Add([plan.InstanceId, profileId, campaign.Id, plan.InstanceKey, trigger.TriggerId, trigger.OccurredAt, rules.Version, plan.Holdout, now]);
            var exit = exitedBy.GetValueOrDefault(plan.InstanceId);
            foreach (var action in plan.Actions)
            {
                var reason = exit is null ? null : $"exit: {exit.Type} at {exit.OccurredAt:O} happened after the trigger";
                actions.Add([action.ActionId, plan.InstanceId, campaign.Id, action.Step, profileId, plan.InstanceKey, trigger.TriggerId, trigger.OccurredAt,
                    action.Action.Kind, SendPolicy.ChannelOf(action.Action), new RawJson(action.Action.Kind == CompiledRules.DeriveKind
                        ? DeriveSettingsJson(action.Action.Settings, trigger) : SettingsJson(action.Action.Settings)), action.Variant, plan.Holdout, campaign.Transactional, campaign.Priority,
                    rules.Version, rules.Fingerprints[campaign.Id], action.DueAt, action.DueAt, exit is null ? ActionStatus.Pending : ActionStatus.Cancelled,
                    exit is null ? null : now, reason, exit?.EventId, now]);
                logs.Add([action.ActionId, campaign.Id, action.Step, profileId, action.Action.Kind, ActionStatus.Scheduled, now, action.DueAt,
                    $"{trigger.Description}" + (plan.Holdout ? "; holdout (control group)" : ""), trigger.TriggerId, rules.Version, action.Variant, null]);
                if (exit is not null)
                    logs.Add([action.ActionId, campaign.Id, action.Step, profileId, action.Action.Kind, ActionStatus.Cancelled, now, null, reason, exit.EventId,
                        rules.Version, action.Variant, null]);
            }
            Log.CampaignStarted(logger, campaign.Id, profileOf(profileId).CustomerId, trigger.TriggerId, plan.Actions.Count, exit is not null);
        }
        await BulkRows.InsertAsync(connection, tx, sql, "campaign_instances", InstanceColumns, instances, ct, "ON CONFLICT (instance_id) DO NOTHING");
        var inserted = await BulkRows.InsertReturningAsync(connection, tx, sql, "scheduled_actions", ActionColumns, actions, "action_id", ct,
            "ON CONFLICT (action_id) DO NOTHING");
        if (inserted.Count < actions.Count)
            logs.RemoveAll(l => !inserted.Contains((string)l[0]!));
        await BulkRows.InsertAsync(connection, tx, sql, "action_log", LogColumns, logs, ct);
        return inserted.Count;
    }

    async Task<Dictionary<string, ExitRow>> FindEarlierExitsAsync(DbConnection connection, DbTransaction tx,
        List<(InstancePlan Plan, string ProfileId, TriggerOccurrence Trigger)> plans, CancellationToken ct)
    {
        var found = new Dictionary<string, ExitRow>(StringComparer.Ordinal);
        var exiting = plans.Where(p => p.Plan.Campaign.ExitOn.Count > 0).ToList();
        if (exiting.Count == 0)
            return found;
        var rows = (await connection.QueryAsync<ExitRow>(new CommandDefinition(
            $"SELECT profile_id, type, occurred_at, event_id, properties, context FROM events " +
            $"WHERE {sql.In("profile_id", "@p")} AND {sql.In("type", "@t")} AND occurred_at > @from",
            new
            {
                p = sql.List(exiting.Select(e => e.ProfileId).Distinct(StringComparer.Ordinal).ToArray()),
                t = sql.List(exiting.SelectMany(e => e.Plan.Campaign.ExitOn).Distinct(StringComparer.Ordinal).ToArray()),
                from = exiting.Min(e => e.Trigger.OccurredAt),
            }, tx, cancellationToken: ct))).ToList();
        if (rows.Count == 0)
            return found;
        foreach (var (plan, profileId, trigger) in exiting)
        {
            var campaign = plan.Campaign;
            var exit = rows
                .Where(r => r.ProfileId == profileId && r.OccurredAt > trigger.OccurredAt && campaign.ExitOn.Contains(r.Type)
                    && (campaign.Key is null || KeyOf(campaign.Key, r.Properties, r.Context) is not { } key || key == plan.InstanceKey))
                .OrderBy(r => r.OccurredAt)
                .FirstOrDefault();
            if (exit is not null)
                found[plan.InstanceId] = exit;
        }
        return found;
    }

    /// <summary>Cancels the pending steps that the batch's exit events end (same customer, same key when the event carries it).</summary>
    async Task<int> ExitAsync(DbConnection connection, DbTransaction tx, CompiledRules rules, IReadOnlyList<StoredEvent> fresh,
        DateTimeOffset now, CancellationToken ct)
    {
        var exits = new List<object?[]>();
        foreach (var (e, profileId) in fresh)
        {
            foreach (var campaign in rules.ExitsByEvent.GetValueOrDefault(e.Type) ?? [])
            {
                var key = campaign.Key is null ? null : KeyOf(campaign.Key, e.PropertiesJson, e.ContextJson);
                exits.Add([profileId, campaign.Id, key, e.OccurredAt, e.EventId, $"exit: {e.Type} at {e.OccurredAt:O}"]);
            }
            // The customer is active again: what inactivity started ends.
            foreach (var campaign in rules.Inactivity)
                exits.Add([profileId, campaign.Id, null, e.OccurredAt, e.EventId, $"active again: {e.Type} at {e.OccurredAt:O}"]);
        }
        if (exits.Count == 0)
            return 0;

        string[] columns = ["profile_id", "campaign_id", "instance_key", "at", "event_id", "reason"];
        var source = sql.Provider == StorageProvider.Postgres
            ? "json_to_recordset(@rows::json) AS x(profile_id text, campaign_id text, instance_key text, at timestamptz, event_id text, reason text)"
            : "(SELECT value->>0 AS profile_id, value->>1 AS campaign_id, value->>2 AS instance_key, value->>3 AS at, value->>4 AS event_id, value->>5 AS reason FROM json_each(@rows)) AS x";
        var cancelled = (await connection.QueryAsync<CancelledRow>(new CommandDefinition(
            $"UPDATE scheduled_actions SET status = '{ActionStatus.Cancelled}', finished_at = @now, reason = x.reason, cause_event_id = x.event_id FROM {source} " +
            "WHERE scheduled_actions.profile_id = x.profile_id AND scheduled_actions.campaign_id = x.campaign_id " +
            $"AND scheduled_actions.status = '{ActionStatus.Pending}' AND scheduled_actions.triggered_at < x.at " +
            "AND (x.instance_key IS NULL OR scheduled_actions.instance_key = x.instance_key) " +
            "RETURNING scheduled_actions.action_id, scheduled_actions.campaign_id, scheduled_actions.step, scheduled_actions.profile_id, " +
            "scheduled_actions.kind, scheduled_actions.rules_version, scheduled_actions.variant, scheduled_actions.reason, scheduled_actions.cause_event_id",
            new { rows = BulkRows.ToJson(sql, columns, exits), now }, tx, cancellationToken: ct))).ToList();

        var logs = cancelled.Select(c => new object?[]
        {
            c.ActionId, c.CampaignId, c.Step, c.ProfileId, c.Kind, ActionStatus.Cancelled, now, null, c.Reason, c.CauseEventId, c.RulesVersion, c.Variant, null,
        }).ToList();

        // Audiences joined by an instance that exits are left again.
        var leaving = exits.Where(x => rules.ById[(string)x[1]!].Steps.Any(s => s.Variants.Any(v => v.Action.Kind == "retargeting"))).ToList();
        var leaves = new List<object?[]>();
        if (leaving.Count > 0)
        {
            var joined = await connection.QueryAsync<JoinedRow>(new CommandDefinition(
                "SELECT action_id, instance_id, campaign_id, step, profile_id, instance_key, trigger_id, triggered_at, settings, rules_version, fingerprint, priority, variant " +
                $"FROM scheduled_actions WHERE {sql.In("profile_id", "@p")} AND {sql.In("campaign_id", "@c")} AND kind = 'retargeting' AND status = '{ActionStatus.Delivered}'",
                new
                {
                    p = sql.List(leaving.Select(x => (string)x[0]!).Distinct(StringComparer.Ordinal).ToArray()),
                    c = sql.List(leaving.Select(x => (string)x[1]!).Distinct(StringComparer.Ordinal).ToArray()),
                }, tx, cancellationToken: ct));
            foreach (var j in joined)
            {
                if (JsonNode.Parse(j.Settings) is not JsonObject settings || settings["op"]?.GetValue<string>() == "leave")
                    continue;
                var exit = leaving.FirstOrDefault(x => (string)x[0]! == j.ProfileId && (string)x[1]! == j.CampaignId && (DateTimeOffset)x[3]! > j.TriggeredAt
                    && (x[2] is null || (string)x[2]! == j.InstanceKey));
                if (exit is null)
                    continue;
                settings["op"] = "leave";
                var actionId = CampaignPlanner.ActionId(j.CampaignId, j.Step, j.ProfileId, j.TriggerId + "/leave");
                var reason = $"leave audience: {(string)exit[5]!}";
                leaves.Add([actionId, j.InstanceId, j.CampaignId, j.Step, j.ProfileId, j.InstanceKey, j.TriggerId, j.TriggeredAt, "retargeting", "retargeting",
                    new RawJson(settings.ToJsonString()), j.Variant, false, true, j.Priority, j.RulesVersion, j.Fingerprint, now, now, ActionStatus.Pending,
                    null, reason, exit[4], now]);
                logs.Add([actionId, j.CampaignId, j.Step, j.ProfileId, "retargeting", ActionStatus.Scheduled, now, now, reason, exit[4], j.RulesVersion, j.Variant, null]);
            }
        }
        var insertedLeaves = await BulkRows.InsertReturningAsync(connection, tx, sql, "scheduled_actions", ActionColumns, leaves, "action_id", ct,
            "ON CONFLICT (action_id) DO NOTHING");
        if (insertedLeaves.Count < leaves.Count)
            logs.RemoveAll(l => (string)l[5]! == ActionStatus.Scheduled && !insertedLeaves.Contains((string)l[0]!));
        await BulkRows.InsertAsync(connection, tx, sql, "action_log", LogColumns, logs, ct);
        foreach (var c in cancelled)
            Log.ActionCancelled(logger, c.ActionId, c.CampaignId, c.CauseEventId);
        return cancelled.Count;
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

    sealed class ExitRow
    {
        public string ProfileId { get; set; } = "";
        public string Type { get; set; } = "";
        public DateTimeOffset OccurredAt { get; set; }
        public string EventId { get; set; } = "";
        public string? Properties { get; set; }
        public string? Context { get; set; }
    }

    sealed class CancelledRow
    {
        public string ActionId { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public int Step { get; set; }
        public string ProfileId { get; set; } = "";
        public string Kind { get; set; } = "";
        public string RulesVersion { get; set; } = "";
        public int Variant { get; set; }
        public string? Reason { get; set; }
        public string? CauseEventId { get; set; }
    }

    sealed class JoinedRow
    {
        public string ActionId { get; set; } = "";
        public string InstanceId { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public int Step { get; set; }
        public string ProfileId { get; set; } = "";
        public string? InstanceKey { get; set; }
        public string TriggerId { get; set; } = "";
        public DateTimeOffset TriggeredAt { get; set; }
        public string Settings { get; set; } = "{}";
        public string RulesVersion { get; set; } = "";
        public string Fingerprint { get; set; } = "";
        public int Priority { get; set; }
        public int Variant { get; set; }
    }
}

/// <summary>The states and log outcomes of a scheduled action.</summary>
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
