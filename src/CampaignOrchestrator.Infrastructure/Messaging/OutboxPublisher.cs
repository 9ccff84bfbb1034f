using System.Data.Common;
using System.Text;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// Where outbound events leave: publishes the outbox's rows, oldest first, to the <c>campaign-actions</c> topic exchange
/// (persistent, with the row's message id), waits for the broker's confirms and only then deletes them. While the broker
/// is unreachable the rows wait in the outbox and the publisher retries with growing pauses (nothing is lost); a crash
/// between a confirm and the delete publishes those rows again with the same message id, which is the one window for a
/// duplicate. On PostgreSQL several workers share the outbox (<c>FOR UPDATE SKIP LOCKED</c>: a row is published by one).
/// With the in-memory transport (tests, demo) there is no broker: rows are dropped after the debug log names them.
/// </summary>
internal sealed class OutboxPublisher(Database database, OutboxSignal signal, IOptions<BusOptions> bus, ILogger<OutboxPublisher> logger)
    : BackgroundService
{
    const int BatchSize = 500;
    static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(250);

    IConnection? _connection;
    IChannel? _channel;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var published = await PublishBatchAsync(stoppingToken);
                if (failures > 0)
                    Log.OutboxPublishing(logger, Outbox.Exchange);
                failures = 0;
                if (published < BatchSize)
                    await signal.WaitAsync(Idle, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                await DisconnectAsync();
                var delay = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(failures++, 5))));
                Log.OutboxPublishFailed(logger, Outbox.Exchange, await PendingAsync(stoppingToken), delay, ex.GetType().Name + ": " + ex.Message);
                try { await Task.Delay(delay, stoppingToken); } catch (OperationCanceledException) { break; }
            }
        }
        await DisconnectAsync();
    }

    /// <summary>Publishes one batch; returns how many rows it took.</summary>
    internal async Task<int> PublishBatchAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var shared = database.Dialect.SharedByWorkers;   // the rows locked for this worker until deleted
        await using var tx = shared ? await connection.BeginTransactionAsync(ct) : null;
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT seq, routing_key, message_id, body, created_at, trace_parent FROM outbox ORDER BY seq LIMIT @limit" + database.Dialect.SkipLocked,
            new { limit = BatchSize }, tx, cancellationToken: ct))).ToList();
        if (rows.Count == 0)
            return 0;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // One span per batch, linked to the deliveries that wrote its events; each message carries it as traceparent.
        using var span = Traces.Source.StartActivity("outbox.publish", System.Diagnostics.ActivityKind.Producer, parentContext: default,
            links: Traces.LinksTo(rows.Select(r => r.TraceParent)));
        span?.SetTag("messaging.system", "rabbitmq").SetTag("messaging.destination.name", Outbox.Exchange).SetTag("messaging.batch.message_count", rows.Count);
        var traceParent = Traces.ParentOf(span);
        if (bus.Value.Transport == BusTransport.RabbitMq)
        {
            var channel = await ChannelAsync(ct);
            // All published at once; each task ends with the broker's confirm (a nack or a lost connection throws).
            await Task.WhenAll(rows.Select(r => channel.BasicPublishAsync(Outbox.Exchange, r.RoutingKey, mandatory: false, new BasicProperties
            {
                ContentType = "application/json",
                DeliveryMode = DeliveryModes.Persistent,
                MessageId = r.MessageId,
                Type = r.RoutingKey,
                Timestamp = new AmqpTimestamp(r.CreatedAt.ToUnixTimeSeconds()),
                Headers = traceParent is null ? null : new Dictionary<string, object?> { ["traceparent"] = traceParent },
            }, Encoding.UTF8.GetBytes(r.Body), ct).AsTask()));
        }
        var seqs = rows.Select(r => r.Seq).ToArray();
        if (shared)
        {
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM outbox WHERE seq = ANY(@seqs)", new { seqs }, tx, cancellationToken: ct));
            await tx!.CommitAsync(ct);
        }
        else
        {
            using var turn = await database.WriteTurnAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(@seqs))", new { seqs = database.Dialect.List(seqs) }, cancellationToken: ct));
        }
        Log.OutboxPublished(logger, rows.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return rows.Count;
    }

    async Task<IChannel> ChannelAsync(CancellationToken ct)
    {
        if (_channel is { IsOpen: true })
            return _channel;
        await DisconnectAsync();
        var rabbit = bus.Value.RabbitMq;
        _connection = await rabbit.ConnectAsync("campaign-orchestrator-outbox", ct);
        _channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        await _channel.ExchangeDeclareAsync(Outbox.Exchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: ct);
        return _channel;
    }

    async Task DisconnectAsync()
    {
        try
        {
            if (_channel is not null) await _channel.DisposeAsync();
            if (_connection is not null) await _connection.DisposeAsync();
        }
        catch (Exception)
        {
            // Already broken: nothing to close.
        }
        (_channel, _connection) = (null, null);
    }

    async Task<long> PendingAsync(CancellationToken ct)
    {
        try
        {
            await using var connection = await database.OpenAsync(ct);
            return await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM outbox", cancellationToken: ct));
        }
        catch (Exception)
        {
            return -1;
        }
    }

    sealed class Row
    {
        public long Seq { get; set; }
        public string RoutingKey { get; set; } = "";
        public string MessageId { get; set; } = "";
        public string Body { get; set; } = "";
        public DateTimeOffset CreatedAt { get; set; }
        public string? TraceParent { get; set; }
    }
}
