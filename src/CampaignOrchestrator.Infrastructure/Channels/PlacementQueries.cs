using System.Security.Cryptography;
using System.Text;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels;

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
