using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Rules;
using Dapper;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Keeps every customer's journey with Dapper, on SQLite or PostgreSQL. A batch of events is one
/// transaction: duplicates are dropped by eventId, devices are linked and merged, the journey rules
/// (<see cref="JourneyEngine"/>) run in memory, and the changes are written set-based.
/// </summary>
internal sealed class JourneyStore(Database database, ActiveRules rules, TimeProvider time, ILogger<JourneyStore> logger)
{
    readonly SqlDialect _sql = database.Dialect;
    readonly CampaignScheduler _campaigns = new(database, logger);

    /// <summary>Stores a batch of accepted events in one transaction; nothing is written if it throws.</summary>
    public async Task<BatchResult> ApplyAsync(IReadOnlyList<AcceptedEvent> batch, CancellationToken cancellationToken)
    {
        using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            var result = await ApplyAsync(connection, tx, batch, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return result;
        }
        catch
        {
            // The batch changed cached profiles in memory; the database did not take the change.
            database.Cache?.Clear();
            throw;
        }
    }

    async Task<BatchResult> ApplyAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<AcceptedEvent> batch, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        // One rules version for the whole batch, even if a reload happens meanwhile.
        var active = rules.Current;
        var phaseModel = active.PhaseModel;

        // 1. Candidate profiles: every customer, and every device, the batch names. Lock them first
        //    so a second worker cannot interleave (PostgreSQL), then read what is already stored.
        var candidates = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in batch)
        {
            if (e.CustomerId is not null) candidates.Add(ProfileIds.ForCustomer(e.CustomerId));
            if (e.AnonymousId is not null) candidates.Add(ProfileIds.ForAnonymous(e.AnonymousId));
        }

        // 2. Identity: known device links (after the locks, in the same round trip), and new links
        //    from events that carry both ids.
        var anonymousIds = batch.Where(e => e.AnonymousId is not null).Select(e => e.AnonymousId!).Distinct(StringComparer.Ordinal).ToArray();
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        {
            var (sql, args) = (new System.Text.StringBuilder(), new DynamicParameters());
            var locking = AppendLocks(sql, args, "lockIds", candidates);
            if (anonymousIds.Length > 0)
            {
                sql.Append($"SELECT anonymous_id, customer_id FROM anonymous_links WHERE {_sql.In("anonymous_id", "@anonymousIds")};");
                args.Add("anonymousIds", _sql.List(anonymousIds));
            }
            if (sql.Length > 0)
            {
                await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(sql.ToString(), args, tx, cancellationToken: ct));
                if (locking)
                    await grid.ReadSingleAsync<long>();
                if (anonymousIds.Length > 0)
                    foreach (var (anonymousId, customerId) in await grid.ReadAsync<(string, string)>())
                        links[anonymousId] = customerId;
            }
        }
        var newLinks = new List<LinkRow>();
        foreach (var e in batch.Where(e => e.LinksIdentity).OrderBy(e => e.OccurredAt))
        {
            if (links.TryAdd(e.AnonymousId!, e.CustomerId!))
                newLinks.Add(new LinkRow(e.AnonymousId!, e.CustomerId!, e.OccurredAt, e.EventId));
        }
        string Resolve(AcceptedEvent e) =>
            e.CustomerId is not null ? ProfileIds.ForCustomer(e.CustomerId)
            : links.TryGetValue(e.AnonymousId!, out var customerId) ? ProfileIds.ForCustomer(customerId)
            : ProfileIds.ForAnonymous(e.AnonymousId!);

        // 3. In one round trip: lock the customers that devices linked earlier resolve to (the batch
        //    does not name them); insert the timeline rows, which skips an eventId seen before (stored,
        //    or earlier in this batch) and says which rows it took (only those change the journey);
        //    and read the stored profiles involved that the cache (SQLite) does not hold.
        var resolved = batch.Select(Resolve).Where(id => !candidates.Contains(id)).Distinct(StringComparer.Ordinal).ToArray();
        var profiles = new Dictionary<string, JourneyProfile>(StringComparer.Ordinal);
        var toRead = new List<string>();
        foreach (var id in candidates.Concat(resolved))
        {
            if (database.Cache?.TryGet(id, out var cached) == true)
                profiles[id] = cached;
            else
                toRead.Add(id);
        }
        HashSet<string> inserted;
        {
            var (sql, args) = (new System.Text.StringBuilder(), new DynamicParameters());
            var locking = AppendLocks(sql, args, "resolvedIds", resolved);
            AppendEventsInsert(sql, args, batch.Select(e => new EventRow(e.EventId, Resolve(e), e.Type, e.OccurredAt, now,
                e.CustomerId, e.AnonymousId, e.TraitsJson, e.PropertiesJson, e.ContextJson)).ToList());
            if (toRead.Count > 0)
            {
                sql.Append($"SELECT * FROM profiles WHERE {_sql.In("profile_id", "@toRead")};");
                args.Add("toRead", _sql.List(toRead));
            }
            await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(sql.ToString(), args, tx, cancellationToken: ct));
            if (locking)
                await grid.ReadSingleAsync<long>();
            inserted = (await grid.ReadAsync<string>()).ToHashSet(StringComparer.Ordinal);
            if (toRead.Count > 0)
                foreach (var row in await grid.ReadAsync<ProfileRow>())
                    profiles[row.ProfileId] = FromRow(row);
        }
        var fresh = new List<AcceptedEvent>(batch.Count);
        var isNew = new bool[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            if (isNew[i] = inserted.Remove(batch[i].EventId))
                fresh.Add(batch[i]);
            else
                Log.DuplicateEvent(logger, batch[i].EventId);
        }
        if (fresh.Count == 0)
            return new BatchResult(isNew);

        JourneyProfile GetOrCreate(string profileId)
        {
            if (!profiles.TryGetValue(profileId, out var profile))
            {
                var customerId = profileId.StartsWith("c:", StringComparison.Ordinal) ? profileId[2..] : null;
                profiles[profileId] = profile = new JourneyProfile(profileId, customerId);
            }
            return profile;
        }

        // 4. Cross-device: a newly linked device's own profile merges into the customer's.
        var merges = new List<(string From, string Into)>();
        foreach (var link in newLinks)
        {
            var source = ProfileIds.ForAnonymous(link.AnonymousId);
            var target = GetOrCreate(ProfileIds.ForCustomer(link.CustomerId));
            database.Cache?.Remove(source);
            if (profiles.Remove(source, out var anonymous))
            {
                JourneyEngine.Merge(target, anonymous);
                merges.Add((source, target.ProfileId));
            }
            Log.DeviceLinked(logger, link.AnonymousId, link.CustomerId, link.EventId);
        }

        // 5. The journey rules, in memory.
        var touched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in fresh)
        {
            var profile = GetOrCreate(Resolve(e));
            JourneyEngine.Apply(profile, e, phaseModel);
            touched.Add(profile.ProfileId);
        }

        // 6. Replay the phase history of profiles whose past changed (late events, merges).
        var history = new List<PhaseHistoryRow>();
        var entered = new List<(string ProfileId, PhaseChange Change)>();
        var replayed = profiles.Values.Where(p => p.NeedsPhaseReplay).ToDictionary(p => p.ProfileId, StringComparer.Ordinal);
        HashSet<string>? freshIds = null;
        bool isFresh(string eventId) => (freshIds ??= fresh.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal)).Contains(eventId);
        var replayIds = replayed.Keys.ToArray();
        if (replayed.Count > 0)
        {
            // The merged devices' events still carry their own profile id until the writes below.
            var sources = merges.Select(m => m.From).ToArray();
            var timeline = await connection.QueryAsync<TimelineRow>(new CommandDefinition(
                $"SELECT profile_id, event_id, type, occurred_at FROM events WHERE {_sql.In("profile_id", "@ids")} ORDER BY occurred_at, seq",
                new { ids = _sql.List(replayIds.Concat(sources).ToArray()) }, tx, cancellationToken: ct));
            var into = merges.ToDictionary(m => m.From, m => m.Into, StringComparer.Ordinal);
            foreach (var group in timeline.GroupBy(r => into.GetValueOrDefault(r.ProfileId, r.ProfileId), StringComparer.Ordinal))
            {
                if (!replayed.TryGetValue(group.Key, out var profile))
                    continue;
                var (changes, orders) = JourneyEngine.Replay(group.Select(r => new TimelineEntry(r.EventId, r.Type, r.OccurredAt)), phaseModel);
                JourneyEngine.ApplyReplay(profile, changes, orders);
                // Phases this batch's events made the customer enter (the store's history is rewritten whole).
                foreach (var change in changes)
                    if (isFresh(change.EventId))
                        entered.Add((group.Key, change));
                history.AddRange(changes.Select(c => new PhaseHistoryRow(group.Key, c.EventId, c.Phase.ToName(), c.At)));
            }
        }
        foreach (var profile in profiles.Values)
        {
            history.AddRange(profile.AppendedPhaseChanges.Select(c => new PhaseHistoryRow(profile.ProfileId, c.EventId, c.Phase.ToName(), c.At)));
            entered.AddRange(profile.AppendedPhaseChanges.Select(c => (profile.ProfileId, c)));
            profile.AppendedPhaseChanges.Clear();
        }
        foreach (var (_, into) in merges)
            touched.Add(into);

        // 7. Campaigns: which instances the fresh events and phases start, and which they end. A merged
        //    device's instances count as the customer's (they move with it below). Stored exit events are read
        //    only for triggers older than what the store holds of the customer (late ones).
        var stored = fresh.Select(e => new StoredEvent(e, Resolve(e))).ToList();
        var campaignWrites = await _campaigns.PlanAsync(connection, tx, active, CampaignScheduler.Occurrences(active, stored, entered),
            CampaignScheduler.Exits(active, stored), id => profiles[id], now, ct,
            mayBeLate: (id, at) => profiles[id].StoredLastSeen is { } held && at < held,
            mergedInto: merges.Count == 0 ? null : merges.ToDictionary(m => m.From, m => m.Into, StringComparer.Ordinal));

        // 8. Write the rest (the events are already in), campaigns last (they see the merged devices).
        var writes = new JourneyChanges(newLinks, merges, replayIds, history, touched.Select(id => ToRow(profiles[id], now)).ToList());
        if (_sql.Provider == StorageProvider.Postgres)
            await WritePostgresAsync(connection, tx, writes, campaignWrites, now, ct);
        else
        {
            await WriteSqliteAsync(connection, tx, writes, ct);
            await _campaigns.WriteSqliteAsync(connection, tx, campaignWrites, now, ct);
        }
        await Channels.OfferChannel.RedeemAsync(connection, tx, fresh, ct);

        foreach (var id in touched)
            profiles[id].StoredLastSeen = profiles[id].LastSeen;
        if (database.Cache is { } cache)
            foreach (var id in touched)
                cache.Set(profiles[id]);

        foreach (var e in fresh)
            Log.EventStored(logger, e.EventId, e.CustomerId);
        return new BatchResult(isNew);
    }

    /// <summary>
    /// The journey of a customer, by customerId or by any of their devices' anonymousIds; null if
    /// nothing is known. The timeline is the newest <paramref name="timelineLimit"/> events, oldest first.
    /// </summary>
    public async Task<JourneyView?> GetAsync(string id, int timelineLimit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var customerProfile = ProfileIds.ForCustomer(id);
        var linkedCustomer = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT customer_id FROM anonymous_links WHERE anonymous_id = @id", new { id }, cancellationToken: cancellationToken));
        ProfileRow? row = null;
        foreach (var candidate in new[] { customerProfile, linkedCustomer is null ? null : ProfileIds.ForCustomer(linkedCustomer), ProfileIds.ForAnonymous(id) })
        {
            if (candidate is null)
                continue;
            row = await connection.QuerySingleOrDefaultAsync<ProfileRow>(new CommandDefinition(
                "SELECT * FROM profiles WHERE profile_id = @candidate", new { candidate }, cancellationToken: cancellationToken));
            if (row is not null)
                break;
        }
        if (row is null)
            return null;

        var anonymous = row.CustomerId is null
            ? [row.ProfileId[2..]]
            : (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT anonymous_id FROM anonymous_links WHERE customer_id = @customerId ORDER BY linked_at",
                new { customerId = row.CustomerId }, cancellationToken: cancellationToken))).ToList();
        var history = (await connection.QueryAsync<HistoryReadRow>(new CommandDefinition(
            "SELECT event_id, phase, occurred_at FROM phase_history WHERE profile_id = @ProfileId ORDER BY occurred_at, event_id",
            new { row.ProfileId }, cancellationToken: cancellationToken)))
            .Select(h => new PhaseHistoryView(h.Phase, h.OccurredAt, h.EventId)).ToList();
        var timeline = (await connection.QueryAsync<TimelineEventRow>(new CommandDefinition(
            "SELECT event_id, type, occurred_at, received_at, customer_id, anonymous_id, traits, properties, context FROM events " +
            "WHERE profile_id = @ProfileId ORDER BY occurred_at DESC, seq DESC LIMIT @timelineLimit",
            new { row.ProfileId, timelineLimit }, cancellationToken: cancellationToken)))
            .Reverse()
            .Select(t => new TimelineEventView(t.EventId, t.Type, t.OccurredAt, t.ReceivedAt, t.CustomerId, t.AnonymousId,
                ParseJson(t.Traits), ParseJson(t.Properties), ParseJson(t.Context)))
            .ToList();
        return new JourneyView(row.ProfileId, row.CustomerId, anonymous, row.Phase, row.PhaseSince,
            (JsonNode.Parse(row.Traits) as JsonObject) ?? [], row.OrderCount, row.OrderTotal, row.EventCount, row.FirstSeen, row.LastSeen, history, timeline);
    }

    /// <summary>
    /// Starts campaigns for triggers that are not events (inactivity, schedules) on the customers
    /// named; customers that no longer exist (merged meanwhile) are left out. Returns the steps scheduled.
    /// </summary>
    public async Task<int> StartCampaignsAsync(IReadOnlyList<(Core.Rules.Campaign Campaign, string ProfileId, Core.Campaigns.TriggerOccurrence Trigger)> occurrences,
        CancellationToken cancellationToken)
    {
        if (occurrences.Count == 0)
            return 0;
        var active = rules.Current;
        using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var ids = occurrences.Select(o => o.ProfileId).Distinct(StringComparer.Ordinal).ToArray();
        var profiles = (await connection.QueryAsync<ProfileRow>(new CommandDefinition(
                $"SELECT * FROM profiles WHERE {_sql.In("profile_id", "@ids")}", new { ids = _sql.List(ids) }, tx, cancellationToken: cancellationToken)))
            .ToDictionary(r => r.ProfileId, FromRow, StringComparer.Ordinal);
        var now = time.GetUtcNow();
        var writes = await _campaigns.PlanAsync(connection, tx, active, occurrences.Where(o => profiles.ContainsKey(o.ProfileId)).ToList(), [],
            id => profiles[id], now, cancellationToken);
        var scheduled = await _campaigns.WriteAsync(connection, tx, writes, now, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return scheduled;
    }

    /// <summary>A page of profiles in profile id order after <paramref name="afterProfileId"/> (segment scans).</summary>
    public async Task<IReadOnlyList<JourneyProfile>> ReadProfilesAsync(string afterProfileId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<ProfileRow>(new CommandDefinition(
                "SELECT * FROM profiles WHERE profile_id > @afterProfileId ORDER BY profile_id LIMIT @limit", new { afterProfileId, limit },
                cancellationToken: cancellationToken)))
            .Select(FromRow).ToList();
    }

    /// <summary>Answers whether the store can be reached (for <c>/health</c>).</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
    }

    /// <summary>Appends the profile locks (PostgreSQL) for <paramref name="ids"/>; true if it did.</summary>
    bool AppendLocks(System.Text.StringBuilder sql, DynamicParameters args, string name, IReadOnlyCollection<string> ids)
    {
        if (ids.Count == 0 || _sql.LockProfilesSql("@" + name) is not { } lockSql)
            return false;
        sql.Append(lockSql);
        args.Add(name, ids.Order(StringComparer.Ordinal).ToArray());
        return true;
    }

    /// <summary>Appends the timeline insert: it skips rows whose eventId is stored and returns the eventIds it inserted.</summary>
    void AppendEventsInsert(System.Text.StringBuilder sql, DynamicParameters args, List<EventRow> rows)
    {
        if (_sql.Provider == StorageProvider.Postgres)
        {
            sql.Append("""
                INSERT INTO events (event_id, profile_id, type, occurred_at, received_at, customer_id, anonymous_id, traits, properties, context)
                SELECT e, p, t, o, r, c, a, tr::json, pr::json, cx::json
                FROM unnest(@e::text[], @p::text[], @t::text[], @o::timestamptz[], @r::timestamptz[], @c::text[], @a::text[], @tr::text[], @pr::text[], @cx::text[])
                     WITH ORDINALITY AS u(e, p, t, o, r, c, a, tr, pr, cx, n)
                ORDER BY n
                ON CONFLICT (event_id) DO NOTHING
                RETURNING event_id;
                """);
            args.Add("e", rows.Select(r => r.EventId).ToArray());
            args.Add("p", rows.Select(r => r.ProfileId).ToArray());
            args.Add("t", rows.Select(r => r.Type).ToArray());
            args.Add("o", rows.Select(r => r.OccurredAt.UtcDateTime).ToArray());
            args.Add("r", rows.Select(r => r.ReceivedAt.UtcDateTime).ToArray());
            args.Add("c", rows.Select(r => r.CustomerId).ToArray());
            args.Add("a", rows.Select(r => r.AnonymousId).ToArray());
            args.Add("tr", rows.Select(r => r.Traits).ToArray());
            args.Add("pr", rows.Select(r => r.Properties).ToArray());
            args.Add("cx", rows.Select(r => r.Context).ToArray());
            return;
        }
        sql.Append("INSERT INTO events (event_id, profile_id, type, occurred_at, received_at, customer_id, anonymous_id, traits, properties, context) " +
            "SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9 FROM jsonb_each(CAST(@rows AS TEXT)) " +
            "WHERE true ON CONFLICT (event_id) DO NOTHING RETURNING event_id;");
        args.Add("rows", SqliteRows.ToJson(rows, r => [r.EventId, r.ProfileId, r.Type, r.OccurredAt, r.ReceivedAt, r.CustomerId, r.AnonymousId, r.Traits, r.Properties, r.Context]));
    }

    const string ProfileOnConflict =
        " ON CONFLICT (profile_id) DO UPDATE SET customer_id = excluded.customer_id, traits = excluded.traits, trait_times = excluded.trait_times, " +
        "phase = excluded.phase, phase_since = excluded.phase_since, order_count = excluded.order_count, order_total = excluded.order_total, event_count = excluded.event_count, " +
        "first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated_at = excluded.updated_at";

    // seen_hour is set only where it moved: SQLite leaves an index alone when no column it covers is in the SET list, so a
    // customer's events within an hour do not rewrite a random page of ix_profiles_seen_hour each (PostgreSQL compares the
    // values itself, and keeps such updates HOT).
    const string SeenHourSet = ", seen_hour = excluded.seen_hour";

    /// <summary>
    /// The hour (UTC) of a last_seen: what the inactivity scan's index holds, so that index changes once per hour of
    /// activity instead of with every event (docs/benchmarks.md: the per-event last_seen index cost 12-17 % of SQLite's rate).
    /// </summary>
    internal static DateTimeOffset SeenHour(DateTimeOffset lastSeen)
    {
        var utc = lastSeen.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>PostgreSQL: every write of the batch in one command, so one round trip.</summary>
    Task WritePostgresAsync(DbConnection connection, DbTransaction tx, JourneyChanges c, CampaignWrites campaigns, DateTimeOffset now, CancellationToken ct)
    {
        var sql = new System.Text.StringBuilder();
        var args = new DynamicParameters();
        if (c.Links.Count > 0)
        {
            sql.Append("INSERT INTO anonymous_links (anonymous_id, customer_id, linked_at, event_id) " +
                "SELECT * FROM unnest(@la::text[], @lc::text[], @lt::timestamptz[], @le::text[]);");
            args.Add("la", c.Links.Select(l => l.AnonymousId).ToArray());
            args.Add("lc", c.Links.Select(l => l.CustomerId).ToArray());
            args.Add("lt", c.Links.Select(l => l.LinkedAt.UtcDateTime).ToArray());
            args.Add("le", c.Links.Select(l => l.EventId).ToArray());
        }
        if (c.Merges.Count > 0)
        {
            sql.Append("UPDATE events SET profile_id = m.into_id FROM unnest(@mf::text[], @mi::text[]) AS m(from_id, into_id) WHERE events.profile_id = m.from_id;" +
                "UPDATE scheduled_actions SET profile_id = m.into_id FROM unnest(@mf::text[], @mi::text[]) AS m(from_id, into_id) WHERE scheduled_actions.profile_id = m.from_id;" +
                // A device's banners go with it; per slot the newest wins (one row per customer and slot in the statement).
                $"INSERT INTO placements ({PlacementColumns}) SELECT DISTINCT ON (m.into_id, p.slot) m.into_id, {PlacementValues} " +
                "FROM placements p JOIN unnest(@mf::text[], @mi::text[]) AS m(from_id, into_id) ON p.profile_id = m.from_id " +
                $"ORDER BY m.into_id, p.slot, p.assigned_at DESC {Channels.BannerChannel.Upsert};" +
                "DELETE FROM placements WHERE profile_id = ANY(@mf);" +
                "UPDATE offers SET profile_id = m.into_id FROM unnest(@mf::text[], @mi::text[]) AS m(from_id, into_id) WHERE offers.profile_id = m.from_id;" +
                "UPDATE audience_members AS a SET profile_id = m.into_id FROM unnest(@mf::text[], @mi::text[]) AS m(from_id, into_id) WHERE a.profile_id = m.from_id " +
                "AND NOT EXISTS (SELECT 1 FROM audience_members b WHERE b.audience = a.audience AND b.profile_id = m.into_id);" +
                "DELETE FROM audience_members WHERE profile_id = ANY(@mf);" +
                "DELETE FROM phase_history WHERE profile_id = ANY(@mf);" +
                "DELETE FROM profiles WHERE profile_id = ANY(@mf);");
            args.Add("mf", c.Merges.Select(m => m.From).ToArray());
            args.Add("mi", c.Merges.Select(m => m.Into).ToArray());
        }
        if (c.ReplayedProfileIds.Count > 0)
        {
            sql.Append("DELETE FROM phase_history WHERE profile_id = ANY(@rp);");
            args.Add("rp", c.ReplayedProfileIds.ToArray());
        }
        if (c.History.Count > 0)
        {
            sql.Append("INSERT INTO phase_history (profile_id, event_id, phase, occurred_at) SELECT * FROM unnest(@hp::text[], @he::text[], @hph::text[], @ho::timestamptz[]);");
            args.Add("hp", c.History.Select(r => r.ProfileId).ToArray());
            args.Add("he", c.History.Select(r => r.EventId).ToArray());
            args.Add("hph", c.History.Select(r => r.Phase).ToArray());
            args.Add("ho", c.History.Select(r => r.OccurredAt.UtcDateTime).ToArray());
        }
        if (c.Profiles.Count > 0)
        {
            var rows = c.Profiles;
            sql.Append("INSERT INTO profiles (profile_id, customer_id, traits, trait_times, phase, phase_since, order_count, order_total, event_count, first_seen, last_seen, seen_hour, updated_at) " +
                "SELECT id, cid, tr::jsonb, tt::jsonb, ph, ps, oc, ot, ec, fs, ls, sh, ua FROM unnest(@id::text[], @cid::text[], @tr::text[], @tt::text[], @ph::text[], " +
                "@ps::timestamptz[], @oc::int[], @ot::numeric[], @ec::int[], @fs::timestamptz[], @ls::timestamptz[], @sh::timestamptz[], @ua::timestamptz[]) " +
                "AS u(id, cid, tr, tt, ph, ps, oc, ot, ec, fs, ls, sh, ua)" + ProfileOnConflict + SeenHourSet + ";");
            args.Add("id", rows.Select(r => r.ProfileId).ToArray());
            args.Add("cid", rows.Select(r => r.CustomerId).ToArray());
            args.Add("tr", rows.Select(r => r.Traits).ToArray());
            args.Add("tt", rows.Select(r => r.TraitTimes).ToArray());
            args.Add("ph", rows.Select(r => r.Phase).ToArray());
            args.Add("ps", rows.Select(r => r.PhaseSince?.UtcDateTime).ToArray());
            args.Add("oc", rows.Select(r => r.OrderCount).ToArray());
            args.Add("ot", rows.Select(r => r.OrderTotal).ToArray());
            args.Add("ec", rows.Select(r => r.EventCount).ToArray());
            args.Add("fs", rows.Select(r => r.FirstSeen.UtcDateTime).ToArray());
            args.Add("ls", rows.Select(r => r.LastSeen.UtcDateTime).ToArray());
            args.Add("sh", rows.Select(r => r.SeenHour.UtcDateTime).ToArray());
            args.Add("ua", rows.Select(r => r.UpdatedAt.UtcDateTime).ToArray());
        }
        if (!campaigns.IsEmpty)
            _campaigns.AppendPostgres(sql, args, campaigns, now);
        return sql.Length == 0 ? Task.CompletedTask : connection.ExecuteAsync(new CommandDefinition(sql.ToString(), args, tx, cancellationToken: ct));
    }

    static readonly string PlacementColumns = string.Join(", ", Channels.BannerChannel.Columns);
    static readonly string PlacementValues = string.Join(", ", Channels.BannerChannel.Columns.Skip(1).Select(c => "p." + c));

    /// <summary>SQLite: the same writes, one <c>json_each</c> statement per table (no round trips in process).</summary>
    static async Task WriteSqliteAsync(DbConnection connection, DbTransaction tx, JourneyChanges c, CancellationToken ct)
    {
        await SqliteRows.ExecuteAsync(connection, tx,
            "INSERT INTO anonymous_links (anonymous_id, customer_id, linked_at, event_id) SELECT value->>0, value->>1, value->>2, value->>3 FROM jsonb_each(CAST(@rows AS TEXT))",
            c.Links, l => [l.AnonymousId, l.CustomerId, l.LinkedAt, l.EventId], ct);
        foreach (var (from, into) in c.Merges)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE events SET profile_id = @into WHERE profile_id = @from; UPDATE scheduled_actions SET profile_id = @into WHERE profile_id = @from; " +
                $"INSERT INTO placements ({PlacementColumns}) SELECT @into, {PlacementValues} FROM placements p WHERE p.profile_id = @from {Channels.BannerChannel.Upsert}; " +
                "DELETE FROM placements WHERE profile_id = @from; UPDATE offers SET profile_id = @into WHERE profile_id = @from; " +
                "UPDATE OR IGNORE audience_members SET profile_id = @into WHERE profile_id = @from; DELETE FROM audience_members WHERE profile_id = @from; " +
                "DELETE FROM phase_history WHERE profile_id = @from; DELETE FROM profiles WHERE profile_id = @from;",
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
        await SqliteRows.ExecuteAsync(connection, tx, upsert + SeenHourSet, c.Profiles.Where(r => r.SeenHourMoved).ToList(), Values, ct);
        await SqliteRows.ExecuteAsync(connection, tx, upsert, c.Profiles.Where(r => !r.SeenHourMoved).ToList(), Values, ct);
    }

    /// <summary>What a batch writes after its events are in.</summary>
    sealed record JourneyChanges(
        IReadOnlyList<LinkRow> Links, IReadOnlyList<(string From, string Into)> Merges, IReadOnlyList<string> ReplayedProfileIds,
        IReadOnlyList<PhaseHistoryRow> History, IReadOnlyList<ProfileRow> Profiles);

    static JourneyProfile FromRow(ProfileRow row)
    {
        var traits = JsonNode.Parse(row.Traits) as JsonObject ?? [];
        var times = JsonSerializer.Deserialize<Dictionary<string, DateTimeOffset>>(row.TraitTimes) ?? [];
        var profile = new JourneyProfile(row.ProfileId, row.CustomerId)
        {
            Phase = PhaseNames.TryParse(row.Phase, out var phase) ? phase : null,
            PhaseSince = row.PhaseSince,
            OrderCount = row.OrderCount,
            OrderTotal = row.OrderTotal,
            EventCount = row.EventCount,
            FirstSeen = row.FirstSeen,
            LastSeen = row.LastSeen,
            StoredLastSeen = row.LastSeen,
            StoredTraitsJson = (row.Traits, row.TraitTimes),
        };
        foreach (var (key, value) in traits.ToList())
        {
            traits.Remove(key);
            profile.Traits[key] = value;
        }
        foreach (var (key, at) in times)
            profile.TraitTimes[key] = at;
        return profile;
    }

    static ProfileRow ToRow(JourneyProfile profile, DateTimeOffset now)
    {
        var (traitsJson, timesJson) = profile.StoredTraitsJson ??= SerializeTraits(profile);
        return new ProfileRow
        {
            ProfileId = profile.ProfileId,
            CustomerId = profile.CustomerId,
            Traits = traitsJson,
            TraitTimes = timesJson,
            Phase = profile.Phase?.ToName(),
            PhaseSince = profile.PhaseSince,
            OrderCount = profile.OrderCount,
            OrderTotal = profile.OrderTotal,
            EventCount = profile.EventCount,
            FirstSeen = profile.FirstSeen,
            LastSeen = profile.LastSeen,
            SeenHour = SeenHour(profile.LastSeen),
            SeenHourMoved = profile.StoredLastSeen is not { } stored || SeenHour(stored) != SeenHour(profile.LastSeen),
            UpdatedAt = now,
        };
    }

    static (string Traits, string TraitTimes) SerializeTraits(JourneyProfile profile)
    {
        var traits = new JsonObject();
        foreach (var (key, value) in profile.Traits)
            traits[key] = value?.DeepClone();
        var times = profile.TraitTimes.ToDictionary(kv => kv.Key, kv => kv.Value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        return (traits.ToJsonString(), JsonSerializer.Serialize(times));
    }

    static JsonNode? ParseJson(string? json) => json is null ? null : JsonNode.Parse(json);

    sealed class HistoryReadRow
    {
        public string EventId { get; set; } = "";
        public string Phase { get; set; } = "";
        public DateTimeOffset OccurredAt { get; set; }
    }

    sealed class TimelineEventRow
    {
        public string EventId { get; set; } = "";
        public string Type { get; set; } = "";
        public DateTimeOffset OccurredAt { get; set; }
        public DateTimeOffset ReceivedAt { get; set; }
        public string? CustomerId { get; set; }
        public string? AnonymousId { get; set; }
        public string? Traits { get; set; }
        public string? Properties { get; set; }
        public string? Context { get; set; }
    }
}

