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
/// On SQLite the two statements stay prepared on connections of their own (<see cref="PreparedReads"/>): preparing
/// the statement anew was 7-9 % of the worker's CPU a read (docs/benchmarks.md, issue 16).
/// </summary>
internal sealed class PlacementQueries(Database database, TimeProvider time, IOptions<PlacementOptions> options) : IDisposable
{
    // A hot-path join of Storage's anonymous_links (TableOwnersTests names it): the device resolved to its customer in the
    // same statement, one round trip a page view (5,000 reads/s with p99 2.2 ms SQLite, 3.4 ms PostgreSQL: docs/benchmarks.md,
    // "Banner placements read over HTTP").
    const string Select =
        "SELECT profile_id, slot, creative, campaign_id, action_id, assigned_at, expires_at FROM placements " +
        "WHERE profile_id IN (@customer, @device, (SELECT 'c:' || customer_id FROM anonymous_links WHERE anonymous_id = @id))";
    const string BySlot = " AND slot = @slot";

    readonly PreparedReads? _prepared = database.Provider == StorageProvider.Sqlite ? new PreparedReads(database, [Select, Select + BySlot]) : null;

    /// <param name="slot">One slot, or null for every assigned slot and every slot with a default.</param>
    public async Task<IReadOnlyList<PlacementView>> GetAsync(string id, string? slot, CancellationToken ct)
    {
        var (customerProfile, device) = (ProfileIds.ForCustomer(id), ProfileIds.ForAnonymous(id));
        IEnumerable<Row> rows;
        if (_prepared is not null)
            rows = await _prepared.ReadAsync(slot is null ? 0 : 1, command =>
            {
                command.Parameters["@id"].Value = id;
                command.Parameters["@customer"].Value = customerProfile;
                command.Parameters["@device"].Value = device;
                if (slot is not null)
                    command.Parameters["@slot"].Value = slot;
            }, r => new Row
            {
                ProfileId = r.GetString(0), Slot = r.GetString(1), Creative = r.GetString(2), CampaignId = r.GetString(3), ActionId = r.GetString(4),
                AssignedAt = DapperConfiguration.ReadTimestamp(r.GetString(5)),
                ExpiresAt = r.IsDBNull(6) ? null : DapperConfiguration.ReadTimestamp(r.GetString(6)),
            }, ct);
        else
        {
            await using var connection = await database.OpenAsync(ct);
            rows = await connection.QueryAsync<Row>(new CommandDefinition(Select + (slot is null ? "" : BySlot),
                new { id, customer = customerProfile, device, slot }, cancellationToken: ct));
        }
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

    public void Dispose() => _prepared?.Dispose();

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
