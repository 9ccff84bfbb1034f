using System.Data.Common;
using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// Outbound events (wire contract: the <c>campaign-actions</c> exchange), written in the transaction that records what
/// they tell, so an event exists exactly when its action is recorded; <see cref="OutboxPublisher"/> publishes them
/// after the commit. The body is the contract record as <see cref="OutboundJson"/> writes it; the AMQP message id is
/// <c>&lt;routing key&gt;:&lt;actionId&gt;</c>.
/// </summary>
internal static class Outbox
{
    public const string Exchange = CampaignActionsTopology.ExchangeName;

    /// <summary>How many outbound events wait to be published (the backlog gauge).</summary>
    public static Task<long> CountAsync(DbConnection connection, CancellationToken ct) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM outbox", cancellationToken: ct));

    static readonly string[] Columns = ["routing_key", "message_id", "body", "created_at", "trace_parent"];

    /// <summary>Writes <paramref name="events"/> to the outbox in <paramref name="tx"/>.</summary>
    public static Task AppendAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, IReadOnlyList<ICampaignActionEvent> events, CancellationToken ct) =>
        AppendAsync(connection, tx, dialect, events.Select(e => (e, (string?)null)).ToList(), ct);

    /// <summary>Writes <paramref name="events"/>, each with the traceparent of the span that wrote it (its publish links to it).</summary>
    public static Task AppendAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, IReadOnlyList<(ICampaignActionEvent Event, string? TraceParent)> events,
        CancellationToken ct) =>
        BulkRows.InsertAsync(connection, tx, dialect, "outbox", Columns,
            events.Select(e => new object?[] { e.Event.RoutingKey, MessageId(e.Event), OutboundJson.Serialize(e.Event), e.Event.OccurredAt, e.TraceParent }).ToList(), ct);

    /// <summary>The AMQP message id a consumer deduplicates on.</summary>
    public static string MessageId(ICampaignActionEvent e) => e.RoutingKey + ":" + e.ActionId;
}
