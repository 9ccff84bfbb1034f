using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Messaging;
using RabbitMQ.Client;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>What a consumer of the worker's outbound events sees: a queue of the test's own on <c>campaign-actions</c>.</summary>
internal static class CampaignActionsListener
{
    /// <summary>A queue bound with <paramref name="bindingKey"/>, gone when the connection closes.</summary>
    public static async Task<(IConnection Connection, IChannel Channel, string Queue)> ListenAsync(string bindingKey, string virtualHost)
    {
        TestServers.RequireRabbitMq();
        var connection = await new ConnectionFactory { HostName = TestServers.RabbitHost, Port = TestServers.RabbitPort, VirtualHost = virtualHost }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(Outbox.Exchange, ExchangeType.Topic, durable: true, autoDelete: false);
        var queue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
        await channel.QueueBindAsync(queue, Outbox.Exchange, bindingKey);
        return (connection, channel, queue);
    }

    /// <summary>Takes messages until <paramref name="until"/> holds or <paramref name="within"/> has passed.</summary>
    public static async Task<List<BasicGetResult>> ReceiveAsync(IChannel channel, string queue, Func<List<BasicGetResult>, bool> until, TimeSpan within)
    {
        var received = new List<BasicGetResult>();
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline && !until(received))
        {
            if (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
                received.Add(message);
            else
                await Task.Delay(50);
        }
        return received;
    }

    public static JsonObject Body(BasicGetResult message) => JsonNode.Parse(Encoding.UTF8.GetString(message.Body.Span))!.AsObject();
}
