using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>
/// The suppression list: addresses that get no more marketing email (unsubscribed, or the customer was erased) or no email
/// at all (hard-bounced). Kept by the address's hash (<see cref="EmailHash"/>), never the address.
/// </summary>
internal static class Suppressions
{
    public const string Unsubscribed = "unsubscribed";
    public const string HardBounce = "hard-bounce";
    public const string Erased = "erased";

    /// <summary>A hard bounce outranks an unsubscribe or an erasure (it stops transactional mail too); neither replaces it.</summary>
    public const string Upsert =
        "INSERT INTO email_suppressions (address_sha256, reason, at, detail) VALUES (@hash, @reason, @at, @detail) " +
        "ON CONFLICT (address_sha256) DO UPDATE SET reason = excluded.reason, at = excluded.at, detail = excluded.detail " +
        "WHERE excluded.reason = 'hard-bounce' OR email_suppressions.reason <> 'hard-bounce'";

    public static async Task AddAsync(Database database, string address, string reason, string? detail, DateTimeOffset at, CancellationToken ct)
    {
        using var turn = await database.WriteTurnAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Upsert,
            new { hash = EmailHash.Of(address), reason, at, detail = SchemaMigrator.Mask(detail, address) }, cancellationToken: ct));
    }

    public static async Task<string?> ReasonAsync(Database database, string address, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT reason FROM email_suppressions WHERE address_sha256 = @hash", new { hash = EmailHash.Of(address) }, cancellationToken: ct));
    }
}
