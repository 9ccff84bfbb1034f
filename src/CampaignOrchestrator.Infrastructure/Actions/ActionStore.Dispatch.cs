using System.Data.Common;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Actions;

// The dispatcher's statements: claim, the reads judging needs, finish.
internal sealed partial class ActionStore
{
    const string ClaimReturning =
        "seq, action_id, campaign_id, step, profile_id, instance_key, trigger_id, kind, channel, settings, variant, holdout, transactional, priority, rules_version, due_at, trace_parent";

    /// <summary>
    /// Claims up to <paramref name="limit"/> actions due at <paramref name="now"/>, oldest due first. PostgreSQL: a row
    /// state fenced by a new token (<c>FOR UPDATE SKIP LOCKED</c>, so several workers share the work), and claims older than
    /// <paramref name="lease"/> are taken again (their worker died). SQLite (one worker per file): the claim is kept in
    /// memory, nothing is written. Either way it is taken in the write turn, so no exit slips between read and claim.
    /// </summary>
    public async Task<ActionClaim> ClaimAsync(DbConnection connection, DateTimeOffset now, int limit, TimeSpan lease, CancellationToken ct)
    {
        var token = Guid.NewGuid().ToString("N");
        if (database.InFlight is { } inFlight)
        {
            List<ClaimedAction> taken;
            long turnAt;
            using (await database.WriteTurnAsync(ct))
            {
                turnAt = System.Diagnostics.Stopwatch.GetTimestamp();
                taken = (await connection.QueryAsync<ClaimedAction>(new CommandDefinition(
                    // The first condition is the partial index's own, so SQLite uses it (it does not infer it from the second).
                    $"SELECT {ClaimReturning} FROM scheduled_actions WHERE status IN ('{ActionStatus.Pending}', '{ActionStatus.Claimed}') " +
                    $"AND status = '{ActionStatus.Pending}' AND due_at <= @now ORDER BY due_at LIMIT @limit",
                    new { now, limit }, cancellationToken: ct))).ToList();
                foreach (var c in taken)
                    inFlight[c.ActionId] = 0;
            }
            return new ActionClaim(taken, token, now, () =>
            {
                foreach (var c in taken)
                    inFlight.TryRemove(c.ActionId, out _);
            }) { TurnAt = turnAt };
        }
        using (await database.WriteTurnAsync(ct))
        {
            var turnAt = System.Diagnostics.Stopwatch.GetTimestamp();
            await using var tx = await connection.BeginTransactionAsync(ct);
            await IndexPlansAsync(connection, tx, ct);
            // The lease runs by the database's clock (claimed_at is its time), so a worker whose clock is ahead does not
            // take over claims that still hold.
            var taken = (await connection.QueryAsync<ClaimedAction>(new CommandDefinition(
                $"UPDATE scheduled_actions SET status = '{ActionStatus.Claimed}', claimed_at = clock_timestamp(), claim_token = @token WHERE seq IN (" +
                $"SELECT seq FROM scheduled_actions WHERE status IN ('{ActionStatus.Pending}', '{ActionStatus.Claimed}') AND due_at <= @now " +
                $"AND (status = '{ActionStatus.Pending}' OR claimed_at < clock_timestamp() - @lease) ORDER BY due_at LIMIT @limit FOR UPDATE SKIP LOCKED) " +
                "RETURNING " + ClaimReturning,
                new { now, token, lease, limit }, tx, cancellationToken: ct))).ToList();
            await tx.CommitAsync(ct);
            return new ActionClaim(taken, token, now, null) { TurnAt = turnAt };
        }
    }

    /// <summary>Extends the lease of what <paramref name="claim"/> still holds (PostgreSQL), by the database's clock.</summary>
    public async Task RenewAsync(DbConnection connection, ActionClaim claim, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE scheduled_actions SET claimed_at = clock_timestamp() WHERE claim_token = @token AND status = '{ActionStatus.Claimed}'",
            new { token = claim.Token }, cancellationToken: ct));
        claim.Renewed();
    }

    /// <summary>
    /// When each of these customers was sent something (not transactional) on one of <paramref name="channels"/> after
    /// <paramref name="since"/>: for the caps. PostgreSQL: one lookup of the unique index per customer (OFFSET 0 keeps the
    /// planner from scanning the table while its statistics are young: 8.5 ms a read under load before, docs/benchmarks.md).
    /// </summary>
    public async Task<List<(string ProfileId, string Channel, DateTimeOffset FinishedAt)>> RecentSendsAsync(DbConnection connection,
        IReadOnlyCollection<string> profileIds, IReadOnlyCollection<string> channels, DateTimeOffset since, CancellationToken ct) =>
        (await connection.QueryAsync<(string ProfileId, string Channel, DateTimeOffset FinishedAt)>(new CommandDefinition(
            _sql.Provider == StorageProvider.Postgres
                ? "SELECT k.p, s.channel, s.finished_at FROM unnest(@p::text[]) AS k(p) CROSS JOIN LATERAL (SELECT channel, finished_at FROM scheduled_actions " +
                  $"WHERE profile_id = k.p AND status = '{ActionStatus.Delivered}' AND NOT transactional AND finished_at > @since AND channel = ANY(@c) OFFSET 0) s"
                : $"SELECT profile_id, channel, finished_at FROM scheduled_actions WHERE {_sql.In("profile_id", "@p")} " +
                  $"AND status = '{ActionStatus.Delivered}' AND NOT transactional AND finished_at > @since AND {_sql.In("channel", "@c")}",
            new { p = _sql.List(profileIds), c = _sql.List(channels), since }, cancellationToken: ct))).ToList();

    /// <summary>
    /// Records what the claimed actions became, for those <paramref name="claim"/> still holds (PostgreSQL: its token; a
    /// claim that expired and was taken over is not finished here); returns the seqs it finished.
    /// </summary>
    public async Task<HashSet<long>> FinishAsync(DbConnection connection, DbTransaction tx, ActionClaim claim, IReadOnlyList<ActionFinish> finished,
        CancellationToken ct)
    {
        await IndexPlansAsync(connection, tx, ct);
        var args = new DynamicParameters(new { token = claim.Token });
        string source;
        var rows = finished.Select(f => f.Values()).ToList();
        if (_sql.Provider == StorageProvider.Postgres)
            source = BulkRows.Unnest(args, "x", ActionFinish.Columns, rows).From;
        else
        {
            source = "(SELECT value->>0 AS seq, value->>1 AS status, value->>2 AS due_at, value->>3 AS finished_at, value->>4 AS reason FROM jsonb_each(CAST(@rows AS TEXT))) AS x";
            args.Add("rows", BulkRows.ToJson(_sql, ActionFinish.Columns, rows));
        }
        return (await connection.QueryAsync<long>(new CommandDefinition(
            "UPDATE scheduled_actions SET status = x.status, due_at = COALESCE(x.due_at, scheduled_actions.due_at), finished_at = x.finished_at, " +
            $"reason = x.reason, claimed_at = NULL, claim_token = NULL FROM {source} " +
            "WHERE scheduled_actions.seq = x.seq AND " +
            (database.InFlight is null ? "scheduled_actions.claim_token = @token" : $"scheduled_actions.status = '{ActionStatus.Pending}'") +
            " RETURNING scheduled_actions.seq",
            args, tx, cancellationToken: ct))).ToHashSet();
    }

    /// <summary>
    /// PostgreSQL: the claim walks the due index in due order and stops at the batch; the finish finds each row by its seq.
    /// Left to itself, the planner picked a bitmap scan of the due index (while few rows look due), which visits every row
    /// the index still lists — also the ones fired since the last vacuum — and never marks those entries dead, or a
    /// sequential scan while the table's statistics were young; both grew with the table (docs/benchmarks.md).
    /// </summary>
    Task IndexPlansAsync(DbConnection connection, DbTransaction tx, CancellationToken ct) => _sql.KeyLookupsOnlyAsync(connection, tx, ct);
}
