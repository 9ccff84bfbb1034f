using System.Data.Common;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// The journey tables' (<c>profiles</c>, <c>events</c>) reads for the layers above, on a connection the caller holds
/// (inside its transaction when it has one). The owner of a table keeps its SQL: a channel or a sweeper asks here.
/// <see cref="JourneyReader"/> is the same for the API (its own connection).
/// </summary>
internal static class JourneyReads
{
    /// <summary>A profile's traits as stored (JSON text), or null for no such profile.</summary>
    public static Task<string?> TraitsAsync(DbConnection connection, DbTransaction? tx, string profileId, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT traits FROM profiles WHERE profile_id = @profileId", new { profileId }, tx, cancellationToken: ct));

    /// <summary>
    /// The event's id, type, time, properties and context (JSON text) as a <typeparamref name="T"/> with those properties,
    /// or null when it is not stored (any more).
    /// </summary>
    public static Task<T?> EventAsync<T>(DbConnection connection, DbTransaction? tx, string eventId, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<T>(new CommandDefinition(
            "SELECT event_id, type, occurred_at, properties, context FROM events WHERE event_id = @eventId", new { eventId }, tx, cancellationToken: ct));

    /// <summary>Whether the profile has an event of <paramref name="type"/> that occurred after <paramref name="since"/>.</summary>
    public static async Task<bool> HasEventSinceAsync(DbConnection connection, DbTransaction? tx, string profileId, string type, DateTimeOffset since,
        CancellationToken ct) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM events WHERE profile_id = @profileId AND type = @type AND occurred_at > @since",
            new { profileId, type, since }, tx, cancellationToken: ct)) > 0;

    /// <summary>The profiles of <paramref name="profileIds"/> that exist, by id.</summary>
    public static async Task<Dictionary<string, Core.Journeys.JourneyProfile>> ProfilesAsync(DbConnection connection, DbTransaction? tx, SqlDialect sql,
        IReadOnlyCollection<string> profileIds, CancellationToken ct) =>
        (await connection.QueryAsync<ProfileRow>(new CommandDefinition(
            $"SELECT * FROM profiles WHERE {sql.In("profile_id", "@ids")}", new { ids = sql.List(profileIds) }, tx, cancellationToken: ct)))
        .ToDictionary(r => r.ProfileId, ProfileRows.FromRow, StringComparer.Ordinal);

    /// <summary>The customer id and current phase of each profile (for the contract's common fields of an event).</summary>
    public static async Task<Dictionary<string, (string ProfileId, string? CustomerId, string? Phase)>> CustomersAsync(DbConnection connection,
        DbTransaction? tx, SqlDialect sql, IEnumerable<string> profileIds, CancellationToken ct) =>
        (await connection.QueryAsync<(string ProfileId, string? CustomerId, string? Phase)>(new CommandDefinition(
            $"SELECT profile_id, customer_id, phase FROM profiles WHERE {sql.In("profile_id", "@p")}",
            new { p = sql.List(profileIds.Distinct(StringComparer.Ordinal).ToArray()) }, tx, cancellationToken: ct)))
        .ToDictionary(r => r.ProfileId, StringComparer.Ordinal);
}
