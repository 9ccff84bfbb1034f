using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Journeys;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>Reads journeys for the API, the segment scans and health: never inside the journey transaction.</summary>
internal sealed class JourneyReader(Database database)
{
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
        var timeline = (await connection.QueryAsync<StoredEventRow>(new CommandDefinition(
            "SELECT event_id, type, occurred_at, received_at, customer_id, anonymous_id, traits, properties, context FROM events " +
            "WHERE profile_id = @ProfileId ORDER BY occurred_at DESC, seq DESC LIMIT @timelineLimit",
            new { row.ProfileId, timelineLimit }, cancellationToken: cancellationToken)))
            .Reverse()
            .Select(t => new TimelineEventView(t.EventId, t.Type, t.OccurredAt, t.ReceivedAt, t.CustomerId, t.AnonymousId,
                ParseJson(t.Traits), ParseJson(t.Properties), ParseJson(t.Context)))
            .ToList();
        timeline = await OfferNotesAsync(connection, timeline, cancellationToken);
        return new JourneyView(row.ProfileId, row.CustomerId, anonymous, row.Phase, row.PhaseSince,
            (JsonNode.Parse(row.Traits) as JsonObject) ?? [], row.OrderCount, row.OrderTotal, row.EventCount, row.FirstSeen, row.LastSeen, history, timeline);
    }

    /// <summary>
    /// Notes on the timeline's <c>offer_redeemed</c> events: the offer used, or why it was not (expired, unknown code, used
    /// already by another event).
    /// </summary>
    async Task<List<TimelineEventView>> OfferNotesAsync(System.Data.Common.DbConnection connection, List<TimelineEventView> timeline, CancellationToken ct)
    {
        static string? Code(TimelineEventView e) =>
            e.Type == "offer_redeemed" && e.Properties?["code"] is JsonValue v && v.TryGetValue<string>(out var code) ? code.Trim().ToUpperInvariant() : null;
        var codes = timeline.Select(Code).OfType<string>().Distinct().ToList();
        if (codes.Count == 0)
            return timeline;
        var offers = (await connection.QueryAsync<(string Code, DateTimeOffset? ExpiresAt, string? RedeemedEventId)>(new CommandDefinition(
            $"SELECT code, expires_at, redeemed_event_id FROM offers WHERE {database.Dialect.In("code", "@codes")}", new { codes = database.Dialect.List(codes) },
            cancellationToken: ct)))
            .ToDictionary(o => o.Code, StringComparer.Ordinal);
        return timeline.Select(e => Code(e) is not { } code ? e : e with
        {
            Note = !offers.TryGetValue(code, out var offer) ? $"unknown offer code {code}: nothing marked used"
                : offer.RedeemedEventId == e.EventId ? $"offer {code} used"
                : offer.ExpiresAt is { } expires && expires < e.OccurredAt ? $"refused: offer {code} expired at {expires.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC"
                : offer.RedeemedEventId is { } other ? $"refused: offer {code} already used (event {other})"
                : null,
        }).ToList();
    }

    /// <summary>
    /// The profiles whose <c>email</c> trait hashes to <paramref name="emailSha256"/> (<see cref="EmailHash"/>): a customer,
    /// and devices not yet tied to one, most recently seen first.
    /// </summary>
    public async Task<IReadOnlyList<CustomerMatch>> FindByEmailAsync(string emailSha256, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<CustomerMatch>(new CommandDefinition(
            "SELECT p.profile_id, p.customer_id, p.phase, p.last_seen FROM email_lookup e JOIN profiles p ON p.profile_id = e.profile_id " +
            "WHERE e.email_sha256 = @emailSha256 ORDER BY p.last_seen DESC LIMIT @limit",
            new { emailSha256, limit }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>A page of profiles in profile id order after <paramref name="afterProfileId"/> (segment scans).</summary>
    public async Task<IReadOnlyList<JourneyProfile>> ReadProfilesAsync(string afterProfileId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<ProfileRow>(new CommandDefinition(
                "SELECT * FROM profiles WHERE profile_id > @afterProfileId ORDER BY profile_id LIMIT @limit", new { afterProfileId, limit },
                cancellationToken: cancellationToken)))
            .Select(ProfileRows.FromRow).ToList();
    }

    /// <summary>
    /// The stored events in the order the worker received them (<c>seq</c>), after <paramref name="afterSeq"/>: what a
    /// rules preview replays. JSON fields as stored text.
    /// </summary>
    public async Task<IReadOnlyList<StoredEventRow>> EventsAfterAsync(long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<StoredEventRow>(new CommandDefinition(
            "SELECT seq, event_id, type, occurred_at, received_at, customer_id, anonymous_id, CAST(traits AS TEXT) AS traits, " +
            "CAST(properties AS TEXT) AS properties, CAST(context AS TEXT) AS context FROM events WHERE seq > @afterSeq ORDER BY seq LIMIT @limit",
            new { afterSeq, limit }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>
    /// The <c>seq</c> of the first event received at or after <paramref name="since"/>, and how many were received from it
    /// on: a binary search over seq (received_at grows with it), so no index on received_at is needed.
    /// </summary>
    public async Task<(long FirstSeq, long Count)> EventsReceivedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var (low, high) = await connection.QuerySingleAsync<(long?, long?)>(new CommandDefinition("SELECT min(seq), max(seq) FROM events",
            cancellationToken: cancellationToken)) is var (l, h) ? (l ?? 1, h ?? 0) : (1, 0);
        high++;
        while (low < high)
        {
            var mid = low + (high - low) / 2;
            var at = await connection.ExecuteScalarAsync<object?>(new CommandDefinition(
                "SELECT received_at FROM events WHERE seq >= @mid ORDER BY seq LIMIT 1", new { mid }, cancellationToken: cancellationToken));
            if (at is null || at is DBNull || DapperConfiguration.ReadTimestamp(at) >= since)
                high = mid;
            else
                low = mid + 1;
        }
        var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM events WHERE seq >= @low", new { low },
            cancellationToken: cancellationToken));
        return (low, count);
    }

    /// <summary>Answers whether the store can be reached (for <c>/health</c>).</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
    }

    static JsonNode? ParseJson(string? json) => json is null ? null : JsonNode.Parse(json);

    sealed class HistoryReadRow
    {
        public string EventId { get; set; } = "";
        public string Phase { get; set; } = "";
        public DateTimeOffset OccurredAt { get; set; }
    }
}

/// <summary>A stored event as <see cref="JourneyReader"/> reads it (the timeline, a preview's replay): JSON fields as stored text.</summary>
internal sealed class StoredEventRow
{
    public long Seq { get; set; }
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
