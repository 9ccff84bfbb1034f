using System.Data.Common;
using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>Ends memberships that ran out: removes them and publishes <c>retargeting.left</c> (reason expired), every minute.</summary>
internal sealed class AudienceSweeper(Database database, TimeProvider time, OutboxSignal signal, IOptions<RetargetingOptions> options, ILogger<AudienceSweeper> logger)
    : ExpirySweeper(database, signal, time, TimeSpan.FromMinutes(1), logger)
{
    protected override async Task<(int, IReadOnlyList<ICampaignActionEvent>, IReadOnlyList<StoredRow>)> EndExpiredAsync(DbConnection connection, DbTransaction tx,
        DateTimeOffset now, CancellationToken ct)
    {
        var ended = (await connection.QueryAsync<Member>(new CommandDefinition(
            "DELETE FROM audience_members WHERE (audience, profile_id) IN (SELECT audience, profile_id FROM audience_members WHERE expires_at <= @now " +
            $"ORDER BY expires_at LIMIT {BatchSize}{SkipLocked}) " +
            "RETURNING audience, profile_id, email_sha256, campaign_id, action_id, expires_at", new { now }, tx, cancellationToken: ct))).ToList();
        if (ended.Count == 0)
            return (0, [], []);
        var customers = await CustomersAsync(connection, tx, Database.Dialect, ended.Select(e => e.ProfileId), ct);
        var left = ended.Select(e =>
        {
            var customer = customers.GetValueOrDefault(e.ProfileId);
            return (ICampaignActionEvent)new RetargetingLeft(e.ActionId, e.CampaignId, 1, customer.CustomerId, AnonymousIdOf(e.ProfileId, customer.CustomerId),
                customer.Phase, e.ExpiresAt, "", 0, e.Audience, e.EmailSha256, "expired");
        }).ToList();
        return (ended.Count, left, ConnectorOutbox.Rows(options.Value, left).ToList());
    }

    sealed class Member
    {
        public string Audience { get; set; } = "";
        public string ProfileId { get; set; } = "";
        public string EmailSha256 { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public string ActionId { get; set; } = "";
        public DateTimeOffset ExpiresAt { get; set; }
    }
}
