using System.Data.Common;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Storage;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// Outbound events (wire contract: the <c>campaign-actions</c> exchange), written in the transaction that records what
/// they tell, so an event exists exactly when its action is recorded; <see cref="OutboxPublisher"/> publishes them
/// after the commit.
/// </summary>
internal static class Outbox
{
    public const string Exchange = "campaign-actions";

    internal static readonly string[] Columns = ["routing_key", "message_id", "body", "created_at"];

    /// <summary>An event about <paramref name="action"/>: the contract's common fields, then the kind's own.</summary>
    public static object?[] Row(string routingKey, DueAction action, DateTimeOffset at, JsonObject fields) =>
        [routingKey, routingKey + ":" + action.ActionId, Body(action, at, fields).ToJsonString(), at];

    /// <summary>The contract's common fields of an action (as events and webhooks carry them), then <paramref name="fields"/>.</summary>
    public static JsonObject Body(DueAction action, DateTimeOffset at, JsonObject fields)
    {
        var body = new JsonObject
        {
            ["actionId"] = action.ActionId,
            ["campaignId"] = action.CampaignId,
            ["step"] = action.Step,
            ["customerId"] = action.CustomerId,
            ["anonymousId"] = action.AnonymousId,
            ["phase"] = action.Phase,
            ["occurredAt"] = at,
            ["causeEventId"] = action.TriggerId,
            ["variant"] = action.Variant,
        };
        foreach (var (key, value) in fields)
            body[key] = value?.DeepClone();
        return body;
    }

    public static Task AppendAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, IReadOnlyList<object?[]> rows, CancellationToken ct) =>
        BulkRows.InsertAsync(connection, tx, dialect, "outbox", Columns, rows, ct);
}

/// <summary>Wakes the outbox publisher when a transaction wrote events (it also looks by itself now and then).</summary>
public sealed class OutboxSignal
{
    readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try { _signal.Release(); } catch (SemaphoreFullException) { }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
