using System.Data.Common;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// The one owner of the <c>scheduled_actions</c> and <c>action_log</c> tables, on both databases: new steps and the
/// instances exits end (inside the journey transaction: PostgreSQL gets them as statements of the batch's final command),
/// a merged device's actions, the cancellations of a rules change, the dispatcher's claim and finish
/// (<c>ActionStore.Dispatch.cs</c>), and the reads for the API (<c>ActionStore.Queries.cs</c>).
/// See docs/decisions/0003-scheduled-actions.md.
/// </summary>
internal sealed partial class ActionStore(Database database, ILogger logger)
{
    readonly SqlDialect _sql = database.Dialect;

    /// <summary>The unique index a new step must not collide with (the actionId already hashes campaign and customer).</summary>
    internal const string Conflict = "ON CONFLICT (profile_id, campaign_id, action_id) DO NOTHING";

    static readonly string[] ExitColumns = ["profile_id", "campaign_id", "instance_key", "at", "event_id", "reason"];

    static object?[] ExitValues(CampaignExit x) => [x.ProfileId, x.CampaignId, x.InstanceKey, x.At, x.EventId, x.Reason];

    // --- Planning: what the batch's campaigns need to know --------------------------------------------------------------

    /// <summary>
    /// Adds the read of the first steps of exactly these (customer, campaign) pairs to <paramref name="batch"/>: when each
    /// earlier instance was triggered (re-entry, and whether an exit can end anything). Read it with <see cref="ReadFirstStepsAsync"/>.
    /// </summary>
    public void AppendFirstSteps(SqlBatch batch, IReadOnlyCollection<(string ProfileId, string CampaignId)> pairs)
    {
        if (_sql.Provider == StorageProvider.Postgres)
        {
            // Per pair an index lookup (the unique index starts with profile and campaign); OFFSET 0 keeps the planner from
            // turning it into a join that scans the table while it is still small.
            batch.Append("SELECT k.p AS profile_id, k.c AS campaign_id, s.triggered_at FROM unnest(@kp::text[], @kc::text[]) AS k(p, c) " +
                "CROSS JOIN LATERAL (SELECT triggered_at FROM scheduled_actions WHERE profile_id = k.p AND campaign_id = k.c AND step = 1 OFFSET 0) s;");
            batch.Add("kp", pairs.Select(k => k.ProfileId).ToArray()).Add("kc", pairs.Select(k => k.CampaignId).ToArray());
        }
        else
        {
            // CROSS JOIN: SQLite loops over the pairs and looks each up in the unique index.
            batch.Append("SELECT s.profile_id, s.campaign_id, s.triggered_at FROM jsonb_each(CAST(@k AS TEXT)) AS k " +
                "CROSS JOIN scheduled_actions AS s WHERE s.profile_id = k.value->>0 AND s.campaign_id = k.value->>1 AND s.step = 1;");
            batch.Add("k", BulkRows.ToJson(_sql, ["profile_id", "campaign_id"], pairs.Select(k => new object?[] { k.ProfileId, k.CampaignId }).ToList()));
        }
    }

    /// <summary>The result of <see cref="AppendFirstSteps"/>.</summary>
    public static async Task<List<FirstStep>> ReadFirstStepsAsync(SqlMapper.GridReader grid) => (await grid.ReadAsync<FirstStep>()).ToList();

    // --- Writes of the journey transaction -------------------------------------------------------------------------------

    // The exit statement: cancel the pending steps of the instances an exit ends (triggered before it,
    // same key when the exit carries one), and log each. Leave rows ("op": "leave") are never cancelled.
    const string ExitMatch =
        "scheduled_actions.profile_id = x.profile_id AND scheduled_actions.campaign_id = x.campaign_id " +
        "AND scheduled_actions.triggered_at < x.at AND (x.instance_key IS NULL OR scheduled_actions.instance_key = x.instance_key)";

    // Audiences joined by an instance that exits are left again: a pending, transactional copy of the
    // delivered retargeting step with "op": "leave", id 'leave-' + the step's id (so at most one).
    static string LeaveInsert(string source, string withLeave, string notLeave) =>
        $"INSERT INTO scheduled_actions ({string.Join(", ", ActionRow.Columns)}) " +
        "SELECT 'leave-' || s.action_id, s.campaign_id, s.step, s.profile_id, s.instance_key, s.trigger_id, s.triggered_at, " +
        $"'leave audience: ' || x.reason, s.kind, s.channel, {withLeave}, s.variant, s.holdout, @yes, s.priority, s.rules_version, s.fingerprint, " +
        $"@cnow, @cnow, '{ActionStatus.Pending}', NULL, NULL, x.event_id, @cnow, s.trace_parent " +
        $"FROM scheduled_actions s JOIN {source} ON s.profile_id = x.profile_id AND s.campaign_id = x.campaign_id AND s.triggered_at < x.at " +
        "AND (x.instance_key IS NULL OR s.instance_key = x.instance_key) " +
        $"WHERE s.kind = 'retargeting' AND s.status = '{ActionStatus.Delivered}' AND {notLeave} {Conflict}";

    /// <summary>PostgreSQL: the writes as statements of the journey's final command (no results needed).</summary>
    void AppendPostgres(SqlBatch batch, ActionWrites w, DateTimeOffset now)
    {
        if (w.IsEmpty)
            return;
        batch.Add("cnow", now);
        AppendInsertsPostgres(batch, w);
        AppendExitsPostgres(batch, w);
    }

    static void AppendInsertsPostgres(SqlBatch batch, ActionWrites w)
    {
        if (w.Actions.Count == 0)
            return;
        var (from, select) = BulkRows.Unnest(batch.Args, "ca", ActionRow.Columns, w.Actions.Select(a => a.Values()).ToList());
        var insert = $"INSERT INTO scheduled_actions ({string.Join(", ", ActionRow.Columns)}) SELECT {select} FROM {from} {Conflict}";
        if (w.Logs.Count == 0)
        {
            batch.Append(insert).Append(";");
            return;
        }
        // Log rows only for the steps this insert took (a redelivered trigger takes none).
        var (logFrom, _) = BulkRows.Unnest(batch.Args, "cl", ActionLogRow.Columns, w.Logs.Select(l => l.Values()).ToList());
        batch.Append($"WITH ins AS ({insert} RETURNING action_id, seq) INSERT INTO action_log ({string.Join(", ", ActionLogRow.Columns)}) " +
            $"SELECT {string.Join(", ", ActionLogRow.Columns.Select(c => c == "action_seq" ? "ins.seq" : "cl." + c))} " +
            $"FROM {logFrom} JOIN ins ON ins.action_id = cl.action_id;");
    }

    void AppendExitsPostgres(SqlBatch batch, ActionWrites w)
    {
        if (w.Exits.Count == 0)
            return;
        const string source = "json_to_recordset(@cx::json) AS x(profile_id text, campaign_id text, instance_key text, at timestamptz, event_id text, reason text)";
        batch.Add("cx", BulkRows.ToJson(_sql, ExitColumns, w.Exits.Select(ExitValues).ToList())).Add("yes", true);
        // One statement: the snapshot it reads is the same for both parts, so the leave rows it adds are not cancelled by it.
        batch.Append($"WITH leave AS ({LeaveInsert(source, "(s.settings::jsonb || '{\"op\": \"leave\"}')::json", "s.settings->>'op' IS DISTINCT FROM 'leave'")} RETURNING 1), ");
        batch.Append($"c AS (UPDATE scheduled_actions SET status = '{ActionStatus.Cancelled}', finished_at = @cnow, reason = x.reason, cause_event_id = x.event_id " +
            $"FROM {source} WHERE {ExitMatch} AND scheduled_actions.status = '{ActionStatus.Pending}' " +
            "RETURNING scheduled_actions.action_id, scheduled_actions.campaign_id, scheduled_actions.step, scheduled_actions.profile_id, scheduled_actions.kind, " +
            "scheduled_actions.rules_version, scheduled_actions.variant, scheduled_actions.due_at, x.reason, x.event_id, scheduled_actions.seq) " +
            $"INSERT INTO action_log ({string.Join(", ", ActionLogRow.Columns)}) SELECT action_id, campaign_id, step, profile_id, kind, '{ActionStatus.Cancelled}', @cnow, due_at, NULL, " +
            "reason, event_id, rules_version, variant, NULL, seq FROM c;");
    }

    /// <summary>SQLite: the same writes, one statement each (no round trips in process).</summary>
    /// <returns>How many new steps it wrote.</returns>
    async Task<int> WriteSqliteAsync(DbConnection connection, DbTransaction tx, ActionWrites w, DateTimeOffset now, CancellationToken ct)
    {
        var inserted = await InsertAsync(connection, tx, w.Actions, w.Logs, ct);
        if (w.Exits.Count == 0)
            return inserted;
        const string source = "(SELECT value->>0 AS profile_id, value->>1 AS campaign_id, value->>2 AS instance_key, value->>3 AS at, " +
            "value->>4 AS event_id, value->>5 AS reason FROM jsonb_each(CAST(@rows AS TEXT))) AS x";
        var rows = BulkRows.ToJson(_sql, ExitColumns, w.Exits.Select(ExitValues).ToList());
        var (notInFlight, inflight) = database.NotInFlight("scheduled_actions.action_id");
        var cancelled = (await connection.QueryAsync<CancelledAction>(new CommandDefinition(
            $"UPDATE scheduled_actions SET status = '{ActionStatus.Cancelled}', finished_at = @now, reason = x.reason, cause_event_id = x.event_id " +
            $"FROM {source} WHERE {ExitMatch} AND scheduled_actions.status = '{ActionStatus.Pending}'{notInFlight} " +
            "RETURNING action_id, campaign_id, step, profile_id, kind, rules_version, variant, due_at, reason, cause_event_id, seq",
            new { rows, now, inflight }, tx, cancellationToken: ct))).ToList();
        await AppendLogAsync(connection, tx, cancelled.Select(c => c.LogRow(now)).ToList(), ct);
        // After the cancelling, so the leave rows stay pending.
        await connection.ExecuteAsync(new CommandDefinition(
            LeaveInsert(source, "json_set(s.settings, '$.op', 'leave')", "coalesce(s.settings->>'op', '') <> 'leave'"),
            new { rows, cnow = now, yes = true }, tx, cancellationToken: ct));
        foreach (var c in cancelled)
            Log.ActionCancelled(logger, c.ActionId, c.CampaignId, c.CauseEventId);
        return inserted;
    }

    /// <summary>Writes <paramref name="w"/> in commands of its own (inactivity and schedule starts).</summary>
    /// <returns>How many new steps it wrote (a trigger started again writes none).</returns>
    public async Task<int> WriteAsync(DbConnection connection, DbTransaction tx, ActionWrites w, DateTimeOffset now, CancellationToken ct)
    {
        if (_sql.Provider == StorageProvider.Sqlite)
            return await WriteSqliteAsync(connection, tx, w, now, ct);
        var inserted = await InsertAsync(connection, tx, w.Actions, w.Logs, ct);
        if (w.Exits.Count > 0)
        {
            var batch = new SqlBatch().Add("cnow", now);
            AppendExitsPostgres(batch, w);
            await batch.ExecuteAsync(connection, tx, ct);
        }
        return inserted;
    }

    /// <summary>
    /// Inserts new steps (a step already stored is skipped) and the log rows of those written cancelled, with their seq.
    /// Returns how many steps it inserted.
    /// </summary>
    public async Task<int> InsertAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<ActionRow> actions, IReadOnlyList<ActionLogRow> logs,
        CancellationToken ct) => (await InsertTakenAsync(connection, tx, actions, logs, ct)).Count;

    /// <summary>
    /// Like <see cref="InsertAsync"/>, returning the action ids of the steps it inserted (PostgreSQL: one statement with their log rows).
    /// </summary>
    public async Task<HashSet<string>> InsertTakenAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<ActionRow> actions,
        IReadOnlyList<ActionLogRow> logs, CancellationToken ct)
    {
        if (actions.Count == 0)
            return [];
        if (_sql.Provider == StorageProvider.Postgres && logs.Count > 0)
        {
            var batch = new SqlBatch();
            var (from, select) = BulkRows.Unnest(batch.Args, "ca", ActionRow.Columns, actions.Select(a => a.Values()).ToList());
            var (logFrom, _) = BulkRows.Unnest(batch.Args, "cl", ActionLogRow.Columns, logs.Select(l => l.Values()).ToList());
            batch.Append($"WITH ins AS (INSERT INTO scheduled_actions ({string.Join(", ", ActionRow.Columns)}) SELECT {select} FROM {from} {Conflict} " +
                $"RETURNING action_id, seq), lg AS (INSERT INTO action_log ({string.Join(", ", ActionLogRow.Columns)}) " +
                $"SELECT {string.Join(", ", ActionLogRow.Columns.Select(c => c == "action_seq" ? "ins.seq" : "cl." + c))} " +
                $"FROM {logFrom} JOIN ins ON ins.action_id = cl.action_id) SELECT action_id FROM ins");
            return (await connection.QueryAsync<string>(new CommandDefinition(batch.ToString(), batch.Args, tx, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);
        }
        var inserted = await BulkRows.InsertReturningAsync<(string ActionId, long Seq)>(connection, tx, _sql, "scheduled_actions", ActionRow.Columns,
            actions.Select(a => a.Values()).ToList(), "action_id, seq", ct, Conflict);
        if (logs.Count > 0)
        {
            var seqs = inserted.ToDictionary(i => i.ActionId, i => i.Seq, StringComparer.Ordinal);
            await AppendLogAsync(connection, tx, logs.Where(l => seqs.ContainsKey(l.ActionId)).Select(l => l with { ActionSeq = seqs[l.ActionId] }).ToList(), ct);
        }
        return inserted.Select(i => i.ActionId).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Appends outcome-log rows.</summary>
    public Task AppendLogAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<ActionLogRow> rows, CancellationToken ct) =>
        BulkRows.InsertAsync(connection, tx, _sql, "action_log", ActionLogRow.Columns, rows.Select(r => r.Values()).ToList(), ct);

    // --- Devices merged into a customer ----------------------------------------------------------------------------------

    /// <summary>
    /// A merged device's actions become the customer's: PostgreSQL as a statement of the journey's final command,
    /// SQLite at once. Before the batch's own action writes, so exits see them.
    /// </summary>
    public async Task WriteMergesAsync(SqlBatch final, DbConnection connection, DbTransaction tx, IReadOnlyList<(string From, string Into)> merges,
        CancellationToken ct)
    {
        if (merges.Count == 0)
            return;
        if (_sql.Provider == StorageProvider.Sqlite)
        {
            foreach (var (from, into) in merges)
                await connection.ExecuteAsync(new CommandDefinition("UPDATE scheduled_actions SET profile_id = @into WHERE profile_id = @from",
                    new { from, into }, tx, cancellationToken: ct));
            return;
        }
        final.Append("UPDATE scheduled_actions SET profile_id = m.into_id FROM unnest(@amf::text[], @ami::text[]) AS m(from_id, into_id) " +
            "WHERE scheduled_actions.profile_id = m.from_id;");
        final.Add("amf", merges.Select(m => m.From).ToArray()).Add("ami", merges.Select(m => m.Into).ToArray());
    }

    /// <summary>The batch's new steps and exits: PostgreSQL as statements of the final command, SQLite at once.</summary>
    public Task WriteAsync(SqlBatch final, DbConnection connection, DbTransaction tx, ActionWrites w, DateTimeOffset now, CancellationToken ct)
    {
        if (_sql.Provider == StorageProvider.Sqlite)
            return WriteSqliteAsync(connection, tx, w, now, ct);
        AppendPostgres(final, w, now);
        return Task.CompletedTask;
    }

    // --- An operator's cancel ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Cancels (and logs, with <paramref name="reason"/>) the pending action <paramref name="actionId"/>, or every pending
    /// action of <paramref name="campaignId"/>; actions being delivered right now are left to finish. Returns how many.
    /// </summary>
    public async Task<int> CancelPendingAsync(string? actionId, string? campaignId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        if (actionId is null == campaignId is null)
            throw new ArgumentException("cancel one action or one campaign's");
        using var turn = await database.WriteTurnAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var (notInFlight, inflight) = database.NotInFlight("action_id");
        var cancelled = (await connection.QueryAsync<CancelledAction>(new CommandDefinition(
            $"UPDATE scheduled_actions SET status = '{ActionStatus.Cancelled}', finished_at = @now, reason = @reason " +
            $"WHERE status IN ('{ActionStatus.Pending}', '{ActionStatus.Claimed}') AND status = '{ActionStatus.Pending}' " +
            (actionId is null ? "AND campaign_id = @campaignId" : "AND action_id = @actionId") + notInFlight +
            " RETURNING action_id, campaign_id, step, profile_id, kind, rules_version, variant, due_at, reason, seq",
            new { now, reason, actionId, campaignId, inflight }, tx, cancellationToken: ct))).ToList();
        await AppendLogAsync(connection, tx, cancelled.Select(c => c.LogRow(now)).ToList(), ct);
        await tx.CommitAsync(ct);
        return cancelled.Count;
    }

    // --- A rules change --------------------------------------------------------------------------------------------------

    /// <summary>
    /// Cancels (and logs) the pending steps <paramref name="next"/> no longer allows: those of campaigns it does not have,
    /// and of changed campaigns that say <c>onChange: exit</c>. Steps being delivered right now are left to finish.
    /// </summary>
    /// <returns>How many it cancelled.</returns>
    public async Task<int> CancelForRulesAsync(DbConnection connection, DbTransaction tx, CompiledRules next, DateTimeOffset now, CancellationToken ct)
    {
        var ids = next.Campaigns.Select(c => c.Id).ToArray();
        var (notInFlight, inflight) = database.NotInFlight("action_id");
        const string returning = " RETURNING action_id, campaign_id, step, profile_id, kind, rules_version, variant, due_at, reason, seq";
        var cancelled = (await connection.QueryAsync<CancelledAction>(new CommandDefinition(
            $"UPDATE scheduled_actions SET status = '{ActionStatus.Cancelled}', finished_at = @now, reason = 'campaign removed in rules version ' || @version " +
            $"WHERE status IN ('{ActionStatus.Pending}', '{ActionStatus.Claimed}') AND status = '{ActionStatus.Pending}' AND NOT ({_sql.In("campaign_id", "@ids")}){notInFlight}" +
            returning,
            new { now, version = next.Version, ids = _sql.List(ids), inflight }, tx, cancellationToken: ct))).ToList();
        foreach (var campaign in next.Campaigns.Where(c => c.OnChange == ChangeBehaviour.Exit))
        {
            cancelled.AddRange(await connection.QueryAsync<CancelledAction>(new CommandDefinition(
                $"UPDATE scheduled_actions SET status = '{ActionStatus.Cancelled}', finished_at = @now, " +
                "reason = 'campaign changed in rules version ' || @version || ' (onChange: exit)' " +
                $"WHERE status IN ('{ActionStatus.Pending}', '{ActionStatus.Claimed}') AND status = '{ActionStatus.Pending}' " +
                $"AND campaign_id = @id AND fingerprint <> @fingerprint{notInFlight}" + returning,
                new { now, version = next.Version, id = campaign.Id, fingerprint = next.Fingerprints[campaign.Id], inflight }, tx, cancellationToken: ct)));
        }
        await AppendLogAsync(connection, tx, cancelled.Select(c => c.LogRow(now) with { CauseEventId = null }).ToList(), ct);
        return cancelled.Count;
    }
}
