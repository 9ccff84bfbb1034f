using System.Data.Common;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>
/// Where rules are judged: inside the journey store's transaction, so an event's effects on the journey and on
/// campaigns commit together (a redelivered event, being a duplicate, schedules nothing). Finds the campaign instances a
/// batch's fresh events and phases start and the ones they end (<see cref="CampaignTriggers"/>), plans each start with
/// <see cref="CampaignPlanner"/> (conditions, re-entry, variants, due times; cancelled at once when an exit happened after
/// a late trigger) and returns the steps as <see cref="ActionWrites"/>, which <see cref="ActionStore"/> writes. Planning
/// reads (re-entry, earlier exits) take one round trip. Triggers no event carries (inactivity, schedules) start through
/// <see cref="StartAsync"/>, in a transaction of their own.
/// </summary>
internal sealed class CampaignScheduler(Database database, ActionStore actions, ILogger logger, CampaignFailures? failures = null)
{
    readonly SqlDialect _sql = database.Dialect;

    /// <summary>The campaign-triggers stage of the journey transaction: what <paramref name="batch"/>'s fresh events start and end.</summary>
    public Task<ActionWrites> PlanAsync(DbConnection connection, DbTransaction tx, CompiledRules rules, JourneyBatch batch, CancellationToken ct)
    {
        var stored = batch.Stored;
        // A merged device's instances count as the customer's (they move with it in the same transaction). Stored exit
        // events are read only for triggers older than what the store holds of the customer (late ones).
        return PlanAsync(connection, tx, rules, CampaignTriggers.Occurrences(rules, stored, batch.PhasesEntered), CampaignTriggers.Exits(rules, stored),
            id => batch.Profiles[id], batch.Now, ct,
            mayBeLate: (id, at) => batch.Profiles[id].StoredLastSeen is { } held && at < held,
            mergedInto: batch.MergedInto);
    }

    /// <summary>
    /// Starts campaigns for triggers that are not events (inactivity, schedules) on the customers named; customers that no
    /// longer exist (merged meanwhile) are left out. Returns the steps scheduled.
    /// </summary>
    public async Task<int> StartAsync(CompiledRules rules, IReadOnlyList<CampaignStart> occurrences, DateTimeOffset now, CancellationToken ct)
    {
        if (occurrences.Count == 0)
            return 0;
        using var turn = await database.WriteTurnAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var ids = occurrences.Select(o => o.ProfileId).Distinct(StringComparer.Ordinal).ToArray();
        var profiles = await JourneyReads.ProfilesAsync(connection, tx, _sql, ids, ct);
        var writes = await PlanAsync(connection, tx, rules, occurrences.Where(o => profiles.ContainsKey(o.ProfileId)).ToList(), [], id => profiles[id], now, ct);
        var scheduled = await actions.WriteAsync(connection, tx, writes, now, ct);
        await tx.CommitAsync(ct);
        return scheduled;
    }

    /// <summary>
    /// Plans the instances <paramref name="occurrences"/> start and keeps the <paramref name="exits"/> that can end something.
    /// </summary>
    /// <param name="mayBeLate">Whether the store may hold events of the customer after this time (a late trigger); only then are
    /// the customer's stored exit events read. Null: always (scans).</param>
    /// <param name="mergedInto">Devices this batch merged into a customer (device profile -> customer profile): their instances and
    /// events count as the customer's (they move with it in the same transaction, after this read).</param>
    async Task<ActionWrites> PlanAsync(DbConnection connection, DbTransaction tx, CompiledRules rules, IReadOnlyList<CampaignStart> occurrences,
        IReadOnlyList<CampaignExit> exits, Func<string, JourneyProfile> profileOf, DateTimeOffset now, CancellationToken ct,
        Func<string, DateTimeOffset, bool>? mayBeLate = null, IReadOnlyDictionary<string, string>? mergedInto = null)
    {
        if (occurrences.Count == 0 && exits.Count == 0)
            return ActionWrites.None;

        // One read for what planning needs: the earlier first steps of exactly the (customer, campaign) pairs the batch
        // starts or ends (re-entry, and whether an exit can end anything), and the stored exit events after late triggers.
        var pairs = new HashSet<(string ProfileId, string CampaignId)>();
        foreach (var (campaign, profileId, _) in occurrences)
            pairs.Add((profileId, campaign.Id));
        foreach (var x in exits)
            pairs.Add((x.ProfileId, x.CampaignId));
        var sourcesOf = mergedInto?.GroupBy(m => m.Value, m => m.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        foreach (var (profileId, campaignId) in pairs.ToList())
            foreach (var source in sourcesOf?.GetValueOrDefault(profileId) ?? [])
                pairs.Add((source, campaignId));
        var late = occurrences.Where(o => o.Campaign.ExitOn.Count > 0
            && (mayBeLate is null || mayBeLate(o.ProfileId, o.Trigger.OccurredAt) || sourcesOf?.ContainsKey(o.ProfileId) == true)).ToList();

        var read = new SqlBatch();
        actions.AppendFirstSteps(read, pairs);
        if (late.Count > 0)
        {
            var profiles = late.Select(o => o.ProfileId).Concat(late.SelectMany(o => sourcesOf?.GetValueOrDefault(o.ProfileId) ?? []))
                .Distinct(StringComparer.Ordinal).ToArray();
            // A hot-path read of Storage's events (TableOwnersTests names it): in the planning batch's one round trip inside the
            // journey transaction (planning's reads so: PostgreSQL server 270-282 → 161-177 µs a message, docs/benchmarks.md).
            read.Append($"SELECT profile_id, type, occurred_at, event_id, properties, context FROM events WHERE {_sql.In("profile_id", "@xp")} " +
                    $"AND {_sql.In("type", "@xt")} AND occurred_at > @xfrom;")
                .Add("xp", _sql.List(profiles))
                .Add("xt", _sql.List(late.SelectMany(o => o.Campaign.ExitOn).Distinct(StringComparer.Ordinal).ToArray()))
                .Add("xfrom", late.Min(o => o.Trigger.OccurredAt));
        }
        var starts = new Dictionary<(string, string), List<DateTimeOffset>>();
        var exitEvents = new List<ExitEvent>();
        await using (var grid = await read.QueryAsync(connection, tx, ct))
        {
            foreach (var row in await ActionStore.ReadFirstStepsAsync(grid))
                StartsOf(starts, mergedInto?.GetValueOrDefault(row.ProfileId) ?? row.ProfileId, row.CampaignId).Add(row.TriggeredAt);
            if (late.Count > 0)
                foreach (var row in await grid.ReadAsync<ExitEventRow>())
                    exitEvents.Add(new ExitEvent(mergedInto?.GetValueOrDefault(row.ProfileId) ?? row.ProfileId, row.Type, row.OccurredAt, row.EventId,
                        row.Properties, row.Context));
        }
        var existing = starts.Keys.ToHashSet();

        var rows = new List<ActionRow>();
        var logs = new List<ActionLogRow>();
        foreach (var (campaign, profileId, trigger) in occurrences.OrderBy(o => o.Trigger.OccurredAt))
        {
            var profile = profileOf(profileId);
            var customer = new CustomerState(profile.ProfileId, profile.CustomerId, profile.Traits, profile.Phase, profile.OrderCount, profile.OrderTotal);
            var earlier = StartsOf(starts, profileId, campaign.Id);
            PlanDecision decision;
            try
            {
                decision = CampaignPlanner.Plan(campaign, trigger, customer, rules.Rules.Defaults, earlier);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)   // pure planning: no I/O inside
            {
                // One campaign that cannot be planned (a due time out of range) is passed over: the event is stored and the
                // other campaigns plan (readiness names it).
                Failed(campaign.Id, $"planning {trigger.TriggerId}", ex);
                continue;
            }
            if (decision.Plan is not { } plan)
            {
                Log.CampaignNotStarted(logger, campaign.Id, profile.CustomerId, trigger.TriggerId, decision.SkipReason!);
                continue;
            }
            earlier.Add(trigger.OccurredAt);
            var exit = CampaignTriggers.FirstExitAfter(campaign, profileId, trigger, plan.InstanceKey, exitEvents);
            var reason = exit is null ? null : $"exit: {exit.Type} at {exit.OccurredAt:O} happened after the trigger";
            var cause = trigger.Description + (plan.Holdout ? "; holdout (control group)" : "");
            foreach (var action in plan.Actions)
            {
                var row = new ActionRow
                {
                    ActionId = action.ActionId, CampaignId = campaign.Id, Step = action.Step, ProfileId = profileId, InstanceKey = plan.InstanceKey,
                    TriggerId = trigger.TriggerId, TriggeredAt = trigger.OccurredAt, Cause = cause, Kind = action.Action.Kind,
                    Channel = SendPolicy.ChannelOf(action.Action),
                    Settings = action.Action.Kind == CompiledRules.DeriveKind
                        ? CampaignTriggers.DeriveSettingsJson(action.Action.Settings, trigger) : CampaignTriggers.SettingsJson(action.Action.Settings),
                    Variant = action.Variant, Holdout = plan.Holdout, Transactional = campaign.Transactional, Priority = campaign.Priority,
                    RulesVersion = rules.Version, Fingerprint = rules.Fingerprints[campaign.Id], PlannedAt = action.DueAt, DueAt = action.DueAt,
                    Status = exit is null ? ActionStatus.Pending : ActionStatus.Cancelled, FinishedAt = exit is null ? null : now, Reason = reason,
                    CauseEventId = exit?.EventId, CreatedAt = now,
                };
                rows.Add(row);
                if (exit is not null)
                    logs.Add(new ActionLogRow
                    {
                        ActionId = row.ActionId, CampaignId = campaign.Id, Step = row.Step, ProfileId = profileId, Kind = row.Kind, Outcome = ActionStatus.Cancelled,
                        At = now, DueAt = row.DueAt, Reason = reason, CauseEventId = exit.EventId, RulesVersion = rules.Version, Variant = row.Variant,
                    });
            }
            Log.CampaignStarted(logger, campaign.Id, profile.CustomerId, trigger.TriggerId, plan.Actions.Count, exit is not null);
        }
        // Only the exits that can end something: the customer has an instance of that campaign (stored before, or started by
        // this batch). Most events end nothing, and the statements that would look are skipped.
        foreach (var a in rows)
            existing.Add((a.ProfileId, a.CampaignId));
        return new ActionWrites(rows, logs, exits.Where(x => existing.Contains((x.ProfileId, x.CampaignId))).ToList());
    }

    void Failed(string campaignId, string doing, Exception ex)
    {
        failures?.Record(campaignId, doing, ex);
        Log.CampaignFailed(logger, campaignId, doing, ex.GetType().Name + ": " + ex.Message);
    }

    static List<DateTimeOffset> StartsOf(Dictionary<(string, string), List<DateTimeOffset>> starts, string profileId, string campaignId)
    {
        if (!starts.TryGetValue((profileId, campaignId), out var list))
            starts[(profileId, campaignId)] = list = [];
        return list;
    }

    sealed class ExitEventRow
    {
        public string ProfileId { get; set; } = "";
        public string Type { get; set; } = "";
        public DateTimeOffset OccurredAt { get; set; }
        public string EventId { get; set; } = "";
        public string? Properties { get; set; }
        public string? Context { get; set; }
    }
}
