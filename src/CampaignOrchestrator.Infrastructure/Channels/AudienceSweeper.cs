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
    : ExpirySweeper(time, TimeSpan.FromMinutes(1), logger)
{
    internal override async Task<int> SweepAsync(CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        using var turn = await database.WriteTurnAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var postgres = database.Provider == StorageProvider.Postgres;
        var ended = (await connection.QueryAsync<Member>(new CommandDefinition(
            "DELETE FROM audience_members WHERE (audience, profile_id) IN (SELECT audience, profile_id FROM audience_members WHERE expires_at <= @now " +
            $"ORDER BY expires_at LIMIT {BatchSize}{(postgres ? " FOR UPDATE SKIP LOCKED" : "")}) " +
            "RETURNING audience, profile_id, email_sha256, campaign_id, action_id, expires_at", new { now }, tx, cancellationToken: ct))).ToList();
        if (ended.Count == 0)
            return 0;
        var sql = database.Dialect;
        var customers = await CustomersAsync(connection, tx, sql, ended.Select(e => e.ProfileId), ct);
        var left = ended.Select(e =>
        {
            var customer = customers.GetValueOrDefault(e.ProfileId);
            return (ICampaignActionEvent)new RetargetingLeft(e.ActionId, e.CampaignId, 1, customer.CustomerId, AnonymousIdOf(e.ProfileId, customer.CustomerId),
                customer.Phase, e.ExpiresAt, "", 0, e.Audience, e.EmailSha256, "expired");
        }).ToList();
        await Outbox.AppendAsync(connection, tx, sql, left, ct);
        await StoredRows.WriteAsync(connection, tx, sql, ConnectorOutbox.Rows(options.Value, left).ToList(), ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        return ended.Count;
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
