using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>The suppression list: addresses that get no more marketing email (unsubscribed) or no email at all (hard-bounced).</summary>
internal static class Suppressions
{
    public static async Task AddAsync(Database database, string address, string reason, string? detail, DateTimeOffset at, CancellationToken ct)
    {
        using var turn = await database.WriteTurnAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        // A hard bounce outranks an unsubscribe (it stops transactional mail too); an unsubscribe does not replace it.
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO email_suppressions (address, reason, at, detail) VALUES (@address, @reason, @at, @detail) " +
            "ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, at = excluded.at, detail = excluded.detail WHERE excluded.reason = 'hard-bounce'",
            new { address = address.ToLowerInvariant(), reason, at, detail }, cancellationToken: ct));
    }

    public static async Task<string?> ReasonAsync(Database database, string address, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT reason FROM email_suppressions WHERE address = @address", new { address = address.ToLowerInvariant() }, cancellationToken: ct));
    }
}
