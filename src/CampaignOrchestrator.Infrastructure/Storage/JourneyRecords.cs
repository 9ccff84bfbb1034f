using System.Data.Common;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Core.Phases;
using Dapper;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// The journey tables' stages of the journey transaction (events, profiles, device links, phase history), on SQLite and
/// PostgreSQL: <see cref="IdentifyAsync"/> (locks, device links, the timeline insert that drops an eventId seen before,
/// the profiles read), <see cref="ApplyJourneyAsync"/> (devices merged, the journey engine, phase replay),
/// <see cref="WriteAsync"/> (the changes, set-based) and <see cref="RememberAsCommitted"/> (the profile cache).
/// </summary>
internal sealed class JourneyRecords(Database database, ILogger logger)
{
    readonly SqlDialect _sql = database.Dialect;

    /// <summary>
    /// Identity and dedup: locks every profile the batch names (PostgreSQL: a second worker cannot interleave), reads the
    /// known device links, inserts the timeline rows (skipping an eventId stored before, or earlier in the batch) and reads
    /// the stored profiles involved that the cache (SQLite) does not hold. Two round trips.
    /// </summary>
    public async Task<JourneyBatch> IdentifyAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<AcceptedEvent> events, DateTimeOffset now,
        CancellationToken ct)
    {
        var batch = new JourneyBatch(events, now);
        // Candidate profiles: every customer, and every device, the batch names.
        var candidates = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.CustomerId is not null) candidates.Add(ProfileIds.ForCustomer(e.CustomerId));
            if (e.AnonymousId is not null) candidates.Add(ProfileIds.ForAnonymous(e.AnonymousId));
        }

        // Known device links (after the locks, in the same round trip), and new links from events that carry both ids.
        var anonymousIds = events.Where(e => e.AnonymousId is not null).Select(e => e.AnonymousId!).Distinct(StringComparer.Ordinal).ToArray();
        {
            var read = new SqlBatch();
            var locking = AppendLocks(read, "lockIds", candidates);
            if (anonymousIds.Length > 0)
                read.Append($"SELECT anonymous_id, customer_id FROM anonymous_links WHERE {_sql.In("anonymous_id", "@anonymousIds")};")
                    .Add("anonymousIds", _sql.List(anonymousIds));
            if (!read.IsEmpty)
            {
                await using var grid = await read.QueryAsync(connection, tx, ct);
                if (locking)
                    await grid.ReadSingleAsync<long>();
                if (anonymousIds.Length > 0)
                    foreach (var (anonymousId, customerId) in await grid.ReadAsync<(string, string)>())
                        batch.Links[anonymousId] = customerId;
            }
        }
        foreach (var e in events.Where(e => e.LinksIdentity).OrderBy(e => e.OccurredAt))
        {
            if (batch.Links.TryAdd(e.AnonymousId!, e.CustomerId!))
                batch.NewLinks.Add(new LinkRow(e.AnonymousId!, e.CustomerId!, e.OccurredAt, e.EventId));
        }

        // In one round trip: lock the customers that devices linked earlier resolve to (the batch does not name them);
        // insert the timeline rows, which says which rows it took (only those change the journey); and read the stored
        // profiles involved that the cache does not hold.
        var resolved = events.Select(batch.Resolve).Where(id => !candidates.Contains(id)).Distinct(StringComparer.Ordinal).ToArray();
        var toRead = new List<string>();
        foreach (var id in candidates.Concat(resolved))
        {
            if (database.Cache?.TryGet(id, out var cached) == true)
                batch.Profiles[id] = cached;
            else
                toRead.Add(id);
        }
        HashSet<string> inserted;
        {
            var write = new SqlBatch();
            var locking = AppendLocks(write, "resolvedIds", resolved);
            AppendEventsInsert(write, events.Select(e => new EventRow(e.EventId, batch.Resolve(e), e.Type, e.OccurredAt, now,
                e.CustomerId, e.AnonymousId, e.TraitsJson, e.PropertiesJson, e.ContextJson)).ToList());
            if (toRead.Count > 0)
                write.Append($"SELECT * FROM profiles WHERE {_sql.In("profile_id", "@toRead")};").Add("toRead", _sql.List(toRead));
            await using var grid = await write.QueryAsync(connection, tx, ct);
            if (locking)
                await grid.ReadSingleAsync<long>();
            inserted = (await grid.ReadAsync<string>()).ToHashSet(StringComparer.Ordinal);
            if (toRead.Count > 0)
                foreach (var row in await grid.ReadAsync<ProfileRow>())
                    batch.Profiles[row.ProfileId] = ProfileRows.FromRow(row);
        }
        for (var i = 0; i < events.Count; i++)
        {
            if (batch.IsNew[i] = inserted.Remove(events[i].EventId))
                batch.Fresh.Add(events[i]);
            else if (logger.IsEnabled(LogLevel.Debug))
                using (Log.EventScope(logger, events[i].EventId, events[i].CustomerId ?? events[i].AnonymousId))
                    Log.DuplicateEvent(logger, events[i].EventId);
        }
        return batch;
    }

    /// <summary>
    /// The journey engine, in memory: a newly linked device's own profile merges into the customer's, the fresh events
    /// apply (traits, phases), and the phase history of profiles whose past changed (late events, merges) is replayed
    /// from the stored timeline. Fills the batch's phases entered, history and touched profiles.
    /// </summary>
    public async Task ApplyJourneyAsync(DbConnection connection, DbTransaction tx, JourneyBatch batch, PhaseModel phaseModel, CancellationToken ct)
    {
        foreach (var link in batch.NewLinks)
        {
            var source = ProfileIds.ForAnonymous(link.AnonymousId);
            var target = batch.GetOrCreate(ProfileIds.ForCustomer(link.CustomerId));
            database.Cache?.Remove(source);
            if (batch.Profiles.Remove(source, out var anonymous))
            {
                JourneyEngine.Merge(target, anonymous);
                batch.Merges.Add((source, target.ProfileId));
            }
            using (Log.EventScope(logger, link.EventId, link.CustomerId))
                Log.DeviceLinked(logger, link.AnonymousId, link.CustomerId, link.EventId);
        }

        foreach (var e in batch.Fresh)
        {
            var profile = batch.GetOrCreate(batch.Resolve(e));
            JourneyEngine.Apply(profile, e, phaseModel);
            batch.Touched.Add(profile.ProfileId);
        }

        var replayed = batch.Profiles.Values.Where(p => p.NeedsPhaseReplay).ToDictionary(p => p.ProfileId, StringComparer.Ordinal);
        HashSet<string>? freshIds = null;
        bool isFresh(string eventId) => (freshIds ??= batch.Fresh.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal)).Contains(eventId);
        batch.ReplayedProfileIds = replayed.Keys.ToArray();
        if (replayed.Count > 0)
        {
            // The merged devices' events still carry their own profile id until the writes.
            var sources = batch.Merges.Select(m => m.From).ToArray();
            var timeline = await connection.QueryAsync<TimelineRow>(new CommandDefinition(
                $"SELECT profile_id, event_id, type, occurred_at, CASE WHEN type = '{PhaseModel.PhaseReset}' THEN CAST(properties AS TEXT) END AS properties " +
                $"FROM events WHERE {_sql.In("profile_id", "@ids")} ORDER BY occurred_at, seq",
                new { ids = _sql.List(batch.ReplayedProfileIds.Concat(sources).ToArray()) }, tx, cancellationToken: ct));
            var into = batch.MergedInto ?? new Dictionary<string, string>();
            foreach (var group in timeline.GroupBy(r => into.GetValueOrDefault(r.ProfileId, r.ProfileId), StringComparer.Ordinal))
            {
                if (!replayed.TryGetValue(group.Key, out var profile))
                    continue;
                var (changes, orders) = JourneyEngine.Replay(group.Select(r => new TimelineEntry(r.EventId, r.Type, r.OccurredAt,
                    r.Properties is null ? null : PhaseModel.ResetTarget(System.Text.Json.Nodes.JsonNode.Parse(r.Properties) as System.Text.Json.Nodes.JsonObject))), phaseModel);
                JourneyEngine.ApplyReplay(profile, changes, orders);
                // Phases this batch's events made the customer enter (the store's history is rewritten whole), except a phase the
                // customer had already left: a late event whose change is followed by one of a stored event rebuilds the history
                // but starts no phaseEntered campaign (a buyer's late browsing brings no first-visit banner; decision 0011).
                var leftLater = false;
                for (var i = changes.Count - 1; i >= 0; i--)
                {
                    if (!isFresh(changes[i].EventId))
                        leftLater = true;
                    else if (!leftLater)
                        batch.PhasesEntered.Add((group.Key, changes[i]));
                }
                batch.History.AddRange(changes.Select(c => new PhaseHistoryRow(group.Key, c.EventId, c.Phase.ToName(), c.At)));
            }
        }
        foreach (var profile in batch.Profiles.Values)
        {
            batch.History.AddRange(profile.AppendedPhaseChanges.Select(c => new PhaseHistoryRow(profile.ProfileId, c.EventId, c.Phase.ToName(), c.At)));
            batch.PhasesEntered.AddRange(profile.AppendedPhaseChanges.Select(c => (profile.ProfileId, c)));
            profile.AppendedPhaseChanges.Clear();
        }
        foreach (var (_, into) in batch.Merges)
            batch.Touched.Add(into);
    }

    /// <summary>
    /// Writes the batch's journey changes (the events are in already): device links, merged devices' events, history and
    /// profiles, the touched profiles. PostgreSQL: statements added to <paramref name="final"/>, the batch's final command;
    /// SQLite: at once, one <c>jsonb_each</c> statement per table.
    /// </summary>
    public Task WriteAsync(SqlBatch final, DbConnection connection, DbTransaction tx, JourneyBatch batch, CancellationToken ct)
    {
        var profiles = batch.Touched.Select(id => ProfileRows.ToRow(batch.Profiles[id], batch.Now)).ToList();
        if (_sql.Provider != StorageProvider.Postgres)
            return WriteSqliteAsync(connection, tx, batch, profiles, ct);
        AppendPostgres(final, batch, profiles);
        return Task.CompletedTask;
    }

    /// <summary>After the commit: the written profiles are what the store holds now (and what the cache keeps, SQLite).</summary>
    public void RememberAsCommitted(JourneyBatch batch)
    {
        foreach (var id in batch.Touched)
            batch.Profiles[id].StoredLastSeen = batch.Profiles[id].LastSeen;
        if (database.Cache is { } cache)
            foreach (var id in batch.Touched)
                cache.Set(batch.Profiles[id]);
        if (logger.IsEnabled(LogLevel.Debug))
            foreach (var e in batch.Fresh)
                using (Log.EventScope(logger, e.EventId, e.CustomerId ?? e.AnonymousId))
                    Log.EventStored(logger, e.EventId, e.CustomerId);
    }

    /// <summary>The transaction failed: the batch changed cached profiles in memory that the database did not take.</summary>
    public void Forget() => database.Cache?.Clear();

    /// <summary>Appends the profile locks (PostgreSQL) for <paramref name="ids"/>; true if it did.</summary>
    bool AppendLocks(SqlBatch batch, string name, IReadOnlyCollection<string> ids)
    {
        if (ids.Count == 0 || _sql.LockProfilesSql("@" + name) is not { } lockSql)
            return false;
        batch.Append(lockSql).Add(name, ids.Order(StringComparer.Ordinal).ToArray());
        return true;
    }

    /// <summary>Appends the timeline insert: it skips rows whose eventId is stored and returns the eventIds it inserted.</summary>
    void AppendEventsInsert(SqlBatch batch, List<EventRow> rows)
    {
        if (_sql.Provider == StorageProvider.Postgres)
        {
            batch.Append("""
                INSERT INTO events (event_id, profile_id, type, occurred_at, received_at, customer_id, anonymous_id, traits, properties, context)
                SELECT e, p, t, o, r, c, a, tr::json, pr::json, cx::json
                FROM unnest(@e::text[], @p::text[], @t::text[], @o::timestamptz[], @r::timestamptz[], @c::text[], @a::text[], @tr::text[], @pr::text[], @cx::text[])
                     WITH ORDINALITY AS u(e, p, t, o, r, c, a, tr, pr, cx, n)
                ORDER BY n
                ON CONFLICT (event_id) DO NOTHING
                RETURNING event_id;
                """);
            batch.Add("e", rows.Select(r => r.EventId).ToArray());
            batch.Add("p", rows.Select(r => r.ProfileId).ToArray());
            batch.Add("t", rows.Select(r => r.Type).ToArray());
            batch.Add("o", rows.Select(r => r.OccurredAt.UtcDateTime).ToArray());
            batch.Add("r", rows.Select(r => r.ReceivedAt.UtcDateTime).ToArray());
            batch.Add("c", rows.Select(r => r.CustomerId).ToArray());
            batch.Add("a", rows.Select(r => r.AnonymousId).ToArray());
            batch.Add("tr", rows.Select(r => r.Traits).ToArray());
            batch.Add("pr", rows.Select(r => r.Properties).ToArray());
            batch.Add("cx", rows.Select(r => r.Context).ToArray());
            return;
        }
        batch.Append("INSERT INTO events (event_id, profile_id, type, occurred_at, received_at, customer_id, anonymous_id, traits, properties, context) " +
            "SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9 FROM jsonb_each(CAST(@rows AS TEXT)) " +
            "WHERE true ON CONFLICT (event_id) DO NOTHING RETURNING event_id;");
        batch.Add("rows", SqliteRows.ToJson(rows, r => [r.EventId, r.ProfileId, r.Type, r.OccurredAt, r.ReceivedAt, r.CustomerId, r.AnonymousId, r.Traits, r.Properties, r.Context]));
    }

    const string ProfileOnConflict =
        " ON CONFLICT (profile_id) DO UPDATE SET customer_id = excluded.customer_id, traits = excluded.traits, trait_times = excluded.trait_times, " +
        "phase = excluded.phase, phase_since = excluded.phase_since, order_count = excluded.order_count, order_total = excluded.order_total, event_count = excluded.event_count, " +
        "first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated_at = excluded.updated_at";

    // seen_hour is set only where it moved: SQLite leaves an index alone when no column it covers is in the SET list, so a
    // customer's events within an hour do not rewrite a random page of ix_profiles_seen_hour each (PostgreSQL compares the
    // values itself, and keeps such updates HOT).
    const string SeenHourSet = ", seen_hour = excluded.seen_hour";

    static void AppendPostgres(SqlBatch sql, JourneyBatch c, List<ProfileRow> rows)
    {
        if (c.NewLinks.Count > 0)
        {
            sql.Append("INSERT INTO anonymous_links (anonymous_id, customer_id, linked_at, event_id) " +
                "SELECT * FROM unnest(@la::text[], @lc::text[], @lt::timestamptz[], @le::text[]);");
            sql.Add("la", c.NewLinks.Select(l => l.AnonymousId).ToArray());
            sql.Add("lc", c.NewLinks.Select(l => l.CustomerId).ToArray());
            sql.Add("lt", c.NewLinks.Select(l => l.LinkedAt.UtcDateTime).ToArray());
            sql.Add("le", c.NewLinks.Select(l => l.EventId).ToArray());
        }
        if (c.Merges.Count > 0)
        {
            sql.Append("UPDATE events SET profile_id = m.into_id FROM unnest(@mf::text[], @mi::text[]) AS m(from_id, into_id) WHERE events.profile_id = m.from_id;" +
                "DELETE FROM phase_history WHERE profile_id = ANY(@mf);" +
                "DELETE FROM email_lookup WHERE profile_id = ANY(@mf);" +
                "DELETE FROM profiles WHERE profile_id = ANY(@mf);");
            sql.Add("mf", c.Merges.Select(m => m.From).ToArray());
            sql.Add("mi", c.Merges.Select(m => m.Into).ToArray());
        }
        if (c.ReplayedProfileIds.Length > 0)
        {
            sql.Append("DELETE FROM phase_history WHERE profile_id = ANY(@rp);");
            sql.Add("rp", c.ReplayedProfileIds);
        }
        if (c.History.Count > 0)
        {
            sql.Append("INSERT INTO phase_history (profile_id, event_id, phase, occurred_at) SELECT * FROM unnest(@hp::text[], @he::text[], @hph::text[], @ho::timestamptz[]);");
            sql.Add("hp", c.History.Select(r => r.ProfileId).ToArray());
            sql.Add("he", c.History.Select(r => r.EventId).ToArray());
            sql.Add("hph", c.History.Select(r => r.Phase).ToArray());
            sql.Add("ho", c.History.Select(r => r.OccurredAt.UtcDateTime).ToArray());
        }
        if (rows.Count > 0)
        {
            sql.Append("INSERT INTO profiles (profile_id, customer_id, traits, trait_times, phase, phase_since, order_count, order_total, event_count, first_seen, last_seen, seen_hour, updated_at) " +
                "SELECT id, cid, tr::jsonb, tt::jsonb, ph, ps, oc, ot, ec, fs, ls, sh, ua FROM unnest(@id::text[], @cid::text[], @tr::text[], @tt::text[], @ph::text[], " +
                "@ps::timestamptz[], @oc::int[], @ot::numeric[], @ec::int[], @fs::timestamptz[], @ls::timestamptz[], @sh::timestamptz[], @ua::timestamptz[]) " +
                "AS u(id, cid, tr, tt, ph, ps, oc, ot, ec, fs, ls, sh, ua)" + ProfileOnConflict + SeenHourSet + ";");
            sql.Add("id", rows.Select(r => r.ProfileId).ToArray());
            sql.Add("cid", rows.Select(r => r.CustomerId).ToArray());
            sql.Add("tr", rows.Select(r => r.Traits).ToArray());
            sql.Add("tt", rows.Select(r => r.TraitTimes).ToArray());
            sql.Add("ph", rows.Select(r => r.Phase).ToArray());
            sql.Add("ps", rows.Select(r => r.PhaseSince?.UtcDateTime).ToArray());
            sql.Add("oc", rows.Select(r => r.OrderCount).ToArray());
            sql.Add("ot", rows.Select(r => r.OrderTotal).ToArray());
            sql.Add("ec", rows.Select(r => r.EventCount).ToArray());
            sql.Add("fs", rows.Select(r => r.FirstSeen.UtcDateTime).ToArray());
            sql.Add("ls", rows.Select(r => r.LastSeen.UtcDateTime).ToArray());
            sql.Add("sh", rows.Select(r => r.SeenHour.UtcDateTime).ToArray());
            sql.Add("ua", rows.Select(r => r.UpdatedAt.UtcDateTime).ToArray());
        }
        var (gone, added) = EmailLookupChanges(rows);
        if (gone.Count > 0)
        {
            sql.Append("DELETE FROM email_lookup WHERE (email_sha256, profile_id) IN (SELECT * FROM unnest(@egh::text[], @egp::text[]));");
            sql.Add("egh", gone.Select(g => g.Hash).ToArray());
            sql.Add("egp", gone.Select(g => g.ProfileId).ToArray());
        }
        if (added.Count > 0)
        {
            sql.Append("INSERT INTO email_lookup (email_sha256, profile_id) SELECT * FROM unnest(@eah::text[], @eap::text[]) ON CONFLICT DO NOTHING;");
            sql.Add("eah", added.Select(g => g.Hash).ToArray());
            sql.Add("eap", added.Select(g => g.ProfileId).ToArray());
        }
    }

    /// <summary>The lookup by email's rows to remove and to add: only for profiles whose address changed.</summary>
    static (List<(string Hash, string ProfileId)> Gone, List<(string Hash, string ProfileId)> Added) EmailLookupChanges(List<ProfileRow> rows)
    {
        var (gone, added) = (new List<(string, string)>(), new List<(string, string)>());
        foreach (var row in rows)
            if (row.EmailMoved is var (from, to))
            {
                if (from is not null) gone.Add((from, row.ProfileId));
                if (to is not null) added.Add((to, row.ProfileId));
            }
        return (gone, added);
    }

    static async Task WriteSqliteAsync(DbConnection connection, DbTransaction tx, JourneyBatch c, List<ProfileRow> profiles, CancellationToken ct)
    {
        await SqliteRows.ExecuteAsync(connection, tx,
            "INSERT INTO anonymous_links (anonymous_id, customer_id, linked_at, event_id) SELECT value->>0, value->>1, value->>2, value->>3 FROM jsonb_each(CAST(@rows AS TEXT))",
            c.NewLinks, l => [l.AnonymousId, l.CustomerId, l.LinkedAt, l.EventId], ct);
        foreach (var (from, into) in c.Merges)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE events SET profile_id = @into WHERE profile_id = @from; " +
                "DELETE FROM phase_history WHERE profile_id = @from; DELETE FROM email_lookup WHERE profile_id = @from; DELETE FROM profiles WHERE profile_id = @from;",
                new { from, into }, tx, cancellationToken: ct));
        }
        await SqliteRows.ExecuteAsync(connection, tx,
            "DELETE FROM phase_history WHERE profile_id IN (SELECT value->>0 FROM jsonb_each(CAST(@rows AS TEXT)))",
            c.ReplayedProfileIds, id => [id], ct);
        await SqliteRows.ExecuteAsync(connection, tx,
            "INSERT INTO phase_history (profile_id, event_id, phase, occurred_at) SELECT value->>0, value->>1, value->>2, value->>3 FROM jsonb_each(CAST(@rows AS TEXT))",
            c.History, r => [r.ProfileId, r.EventId, r.Phase, r.OccurredAt], ct);
        const string upsert =
            "INSERT INTO profiles (profile_id, customer_id, traits, trait_times, phase, phase_since, order_count, order_total, event_count, first_seen, last_seen, seen_hour, updated_at) " +
            "SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9, value->>10, value->>11, value->>12 " +
            "FROM jsonb_each(CAST(@rows AS TEXT)) WHERE true" + ProfileOnConflict;
        static object?[] Values(ProfileRow r) =>
            [r.ProfileId, r.CustomerId, r.Traits, r.TraitTimes, r.Phase, r.PhaseSince, r.OrderCount, r.OrderTotal, r.EventCount, r.FirstSeen, r.LastSeen, r.SeenHour, r.UpdatedAt];
        await SqliteRows.ExecuteAsync(connection, tx, upsert + SeenHourSet, profiles.Where(r => r.SeenHourMoved).ToList(), Values, ct);
        await SqliteRows.ExecuteAsync(connection, tx, upsert, profiles.Where(r => !r.SeenHourMoved).ToList(), Values, ct);
        var (gone, added) = EmailLookupChanges(profiles);
        await SqliteRows.ExecuteAsync(connection, tx,
            "DELETE FROM email_lookup WHERE (email_sha256, profile_id) IN (SELECT value->>0, value->>1 FROM jsonb_each(CAST(@rows AS TEXT)))",
            gone, g => [g.Hash, g.ProfileId], ct);
        await SqliteRows.ExecuteAsync(connection, tx,
            "INSERT INTO email_lookup (email_sha256, profile_id) SELECT value->>0, value->>1 FROM jsonb_each(CAST(@rows AS TEXT)) WHERE true ON CONFLICT DO NOTHING",
            added, g => [g.Hash, g.ProfileId], ct);
    }
}
