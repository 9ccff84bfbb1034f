using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using System.Text.Json;
using System.Text.Json.Nodes;
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

    /// <summary>As <see cref="AddAsync"/>, for an address known only by its hash (an unsubscribe link's).</summary>
    public static async Task AddHashAsync(Database database, string hash, string reason, string? detail, DateTimeOffset at, CancellationToken ct)
    {
        using var turn = await database.WriteTurnAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Upsert, new { hash, reason, at, detail }, cancellationToken: ct));
    }

    /// <summary>
    /// Consent given back (the journey transaction's writes): a fresh <c>consent_changed</c> with <c>traits.emailConsent</c> true
    /// lifts an unsubscribe, or an erasure, of the customer's address that came before it. A hard bounce stays (the address
    /// does not take mail), and only an explicit consent_changed counts: a shop's other events may carry an old
    /// <c>emailConsent: true</c> from its own records, which must not undo an unsubscribe.
    /// </summary>
    public static void AppendConsentGivenBack(SqlBatch batch, JourneyBatch journeys)
    {
        var n = 0;
        foreach (var e in journeys.Fresh)
        {
            if (e.Type != ConsentChanged || e.Traits?["emailConsent"] is not JsonValue consent || consent.GetValueKind() != JsonValueKind.True)
                continue;
            var email = e.Traits["email"] ?? journeys.Profiles.GetValueOrDefault(journeys.Resolve(e))?.Traits.GetValueOrDefault("email");
            if (email is not JsonValue address || address.GetValueKind() != JsonValueKind.String || ((string)address!).Trim().Length == 0)
                continue;
            batch.Append($"DELETE FROM email_suppressions WHERE address_sha256 = @csh{n} AND reason IN ('{Unsubscribed}', '{Erased}') AND at < @csa{n};")
                .Add($"csh{n}", EmailHash.Of((string)address!)).Add($"csa{n}", e.OccurredAt);
            n++;
        }
    }

    /// <summary>The event type that changes consent (wire contract).</summary>
    public const string ConsentChanged = "consent_changed";

    public static async Task<string?> ReasonAsync(Database database, string address, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT reason FROM email_suppressions WHERE address_sha256 = @hash", new { hash = EmailHash.Of(address) }, cancellationToken: ct));
    }
}
