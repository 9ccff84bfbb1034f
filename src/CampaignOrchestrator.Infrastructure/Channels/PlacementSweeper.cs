using System.Data.Common;
using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Core.Channels;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Clears banners whose ttl ran out: the placement is removed (the webshop reads the slot's default from then on,
/// which it did already: reads leave expired banners out) and <c>banner.cleared</c> is published through the outbox,
/// in one transaction. Every 30 seconds, in batches; on PostgreSQL several workers share the work (SKIP LOCKED).
/// </summary>
internal sealed class PlacementSweeper(Database database, ActionStore actions, TimeProvider time, OutboxSignal signal, ILogger<PlacementSweeper> logger)
    : ExpirySweeper(database, signal, time, TimeSpan.FromSeconds(30), logger)
{

    protected override async Task<(int, IReadOnlyList<ICampaignActionEvent>, IReadOnlyList<StoredRow>)> EndExpiredAsync(DbConnection connection, DbTransaction tx,
        DateTimeOffset now, CancellationToken ct)
    {
        var expired = (await connection.QueryAsync<Expired>(new CommandDefinition(
            "DELETE FROM placements WHERE (profile_id, slot) IN (SELECT profile_id, slot FROM placements WHERE expires_at IS NOT NULL AND expires_at <= @now " +
            $"ORDER BY expires_at LIMIT @limit{SkipLocked}) " +
            "RETURNING profile_id, slot, creative, campaign_id, action_id, expires_at", new { now, limit = BatchSize }, tx, cancellationToken: ct))).ToList();
        if (expired.Count == 0)
            return (0, [], []);
        // The contract's common fields: the step from the action that assigned the banner, the customer's phase now.
        var customers = await CustomersAsync(connection, tx, Database.Dialect, expired.Select(e => e.ProfileId), ct);
        var steps = await actions.DeliveredStepsAsync(connection, tx, customers.Keys, ChannelKinds.Banner.Name, ct);
        var cleared = expired.Select(e =>
        {
            var customer = customers.GetValueOrDefault(e.ProfileId);
            var step = steps.GetValueOrDefault(e.ActionId);
            return (ICampaignActionEvent)new BannerCleared(e.ActionId, e.CampaignId, step.Step, customer.CustomerId, AnonymousIdOf(e.ProfileId, customer.CustomerId),
                customer.Phase, e.ExpiresAt, step.TriggerId ?? "", step.Variant, e.Slot, e.Creative, "expired");
        }).ToList();
        return (expired.Count, cleared, []);
    }

    sealed class Expired
    {
        public string ProfileId { get; set; } = "";
        public string Slot { get; set; } = "";
        public string Creative { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public string ActionId { get; set; } = "";
        public DateTimeOffset ExpiresAt { get; set; }
    }
}
