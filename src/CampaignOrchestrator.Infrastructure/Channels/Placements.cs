using System.Security.Cryptography;
using System.Text;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>The <c>Placements</c> section: the webshop's read access to banners.</summary>
public sealed class PlacementOptions
{
    public const string SectionName = "Placements";

    /// <summary>The key the webshop sends in <c>X-Api-Key</c> (read-only: it reads placements and nothing else).
    /// Set it from the environment (<c>Placements__ApiKey</c>); unset, every read is refused.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The creative a slot shows when no campaign has assigned one (or it expired), by slot.</summary>
    public Dictionary<string, string> Defaults { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="presented"/> is the configured key (compared in constant time).</summary>
    public bool Accepts(string? presented) =>
        !string.IsNullOrEmpty(ApiKey) && presented is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(ApiKey));
}

internal sealed class PlacementOptionsValidator : IValidateOptions<PlacementOptions>
{
    public ValidateOptionsResult Validate(string? name, PlacementOptions o)
    {
        var errors = new List<string>();
        if (o.ApiKey is { Length: > 0 and < 16 })
            errors.Add($"Placements:ApiKey must be at least 16 characters (got {o.ApiKey.Length})");
        foreach (var (slot, creative) in o.Defaults)
            if (string.IsNullOrWhiteSpace(creative))
                errors.Add($"Placements:Defaults:{slot} must name a creative");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>A slot's banner as the webshop renders it: the assigned creative, or the slot's default.</summary>
/// <param name="IsDefault">True when no campaign's banner holds the slot now (none assigned, or it expired).</param>
public sealed record PlacementView(string Slot, string? Creative, bool IsDefault, string? CampaignId = null, string? ActionId = null,
    DateTimeOffset? AssignedAt = null, DateTimeOffset? ExpiresAt = null);

/// <summary>
/// Reads a customer's placements for <c>GET /api/placements/{id}</c>: by customerId or anonymousId (a device linked
/// to a customer reads the customer's banners), one indexed read, expired banners left out, defaults filled in.
/// </summary>
internal sealed class PlacementQueries(Database database, TimeProvider time, IOptions<PlacementOptions> options)
{
    /// <param name="slot">One slot, or null for every assigned slot and every slot with a default.</param>
    public async Task<IReadOnlyList<PlacementView>> GetAsync(string id, string? slot, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT profile_id, slot, creative, campaign_id, action_id, assigned_at, expires_at FROM placements " +
            "WHERE profile_id IN (@customer, @device, (SELECT 'c:' || customer_id FROM anonymous_links WHERE anonymous_id = @id))" +
            (slot is null ? "" : " AND slot = @slot"),
            new { id, customer = ProfileIds.ForCustomer(id), device = ProfileIds.ForAnonymous(id), slot }, cancellationToken: ct));
        var now = time.GetUtcNow();
        var customer = ProfileIds.ForCustomer(id);
        var bySlot = rows
            .Where(r => r.ExpiresAt is null || r.ExpiresAt > now)
            // The customer's own profile first, then the customer a device is linked to, then the device itself.
            .GroupBy(r => r.Slot, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(r => r.ProfileId == customer ? 0 : r.ProfileId.StartsWith("c:", StringComparison.Ordinal) ? 1 : 2).First(),
                StringComparer.Ordinal);
        var defaults = options.Value.Defaults;
        var slots = slot is not null ? [slot] : bySlot.Keys.Union(defaults.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return slots.Select(s => bySlot.TryGetValue(s, out var r)
                ? new PlacementView(s, r.Creative, false, r.CampaignId, r.ActionId, r.AssignedAt, r.ExpiresAt)
                : new PlacementView(s, defaults.GetValueOrDefault(s), true))
            .ToList();
    }

    sealed class Row
    {
        public string ProfileId { get; set; } = "";
        public string Slot { get; set; } = "";
        public string Creative { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public string ActionId { get; set; } = "";
        public DateTimeOffset AssignedAt { get; set; }
        public DateTimeOffset? ExpiresAt { get; set; }
    }
}
