using System.Text;
using CampaignOrchestrator.Contracts.Inbound;
using RabbitMQ.Client;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>A webshop that is not .NET: plain AMQP, raw JSON, publisher confirms.</summary>
internal sealed class RabbitPublisher : IAsyncDisposable
{
    readonly IConnection _connection;
    readonly IChannel _channel;

    RabbitPublisher(IConnection connection, IChannel channel) { _connection = connection; _channel = channel; }

    public IChannel Channel => _channel;

    /// <param name="port">A cluster node's port instead of the test broker's.</param>
    /// <param name="virtualHost">The test worker's (<see cref="TestWorker.VirtualHost"/>).</param>
    public static async Task<RabbitPublisher> ConnectAsync(int? port = null, string virtualHost = "/")
    {
        if (port is null)
            TestServers.RequireRabbitMq();
        var factory = new ConnectionFactory { HostName = TestServers.RabbitHost, Port = port ?? TestServers.RabbitPort, VirtualHost = virtualHost };
        var connection = await factory.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        // A publisher may declare the exchange too, with the same arguments as the worker.
        await channel.ExchangeDeclareAsync(JourneyEventsTopology.ExchangeName, ExchangeType.Topic, durable: true, autoDelete: false);
        return new RabbitPublisher(connection, channel);
    }

    public Task PublishAsync(string json, string routingKey = "test", string? contentType = "application/json", string? messageId = null) =>
        PublishAsync(Encoding.UTF8.GetBytes(json), routingKey, contentType, messageId);

    public async Task PublishAsync(byte[] body, string routingKey = "test", string? contentType = "application/json", string? messageId = null)
    {
        var props = new BasicProperties { DeliveryMode = DeliveryModes.Persistent, ContentType = contentType, MessageId = messageId };
        await _channel.BasicPublishAsync(JourneyEventsTopology.ExchangeName, routingKey, true, props, body);
    }

    /// <summary>Reads (and acknowledges) every message now in a queue.</summary>
    public async Task<List<BasicGetResult>> DrainAsync(string queue)
    {
        // A queue that does not exist yet (no error so far) closes the channel: use a throwaway one.
        await using var channel = await _connection.CreateChannelAsync();
        var list = new List<BasicGetResult>();
        try
        {
            while (await channel.BasicGetAsync(queue, autoAck: true) is { } result)
                list.Add(result);
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
        }
        return list;
    }

    public async Task DeleteQueuesAsync(string queue)
    {
        foreach (var q in new[] { queue, queue + "_error", queue + "_skipped" })
            await _channel.QueueDeleteAsync(q);
        await _channel.ExchangeDeleteAsync(queue);
        await _channel.ExchangeDeleteAsync(queue + "_error");
        await _channel.ExchangeDeleteAsync(queue + "_skipped");
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
