using RabbitMQ.Client;

namespace CampaignOrchestrator.Bench;

internal static class BenchRabbit
{
    /// <summary>Deletes a worker's queue (and MassTransit's exchange of the same name): left bound to journey-events,
    /// it would take a copy of every later event and make the broker write them all.</summary>
    public static async Task DeleteQueueAsync(int port, string vhost, string queue)
    {
        var factory = new ConnectionFactory { HostName = "127.0.0.1", Port = port, VirtualHost = vhost };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(queue);
        await channel.ExchangeDeleteAsync(queue);
    }
}
