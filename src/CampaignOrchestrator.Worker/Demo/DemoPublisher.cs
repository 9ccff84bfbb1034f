using System.Text;
using System.Text.Json;
using CampaignOrchestrator.Contracts.Inbound;
using CampaignOrchestrator.Infrastructure.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace CampaignOrchestrator.Worker.Demo;

/// <summary>
/// <c>--demo</c>: once the worker runs, publishes a few realistic journeys the way a webshop does
/// (raw JSON on the <c>journey-events</c> exchange; typed through the bus on the in-memory
/// transport), then prints where to look at them.
/// </summary>
internal sealed class DemoPublisher(
    IHostApplicationLifetime lifetime, IOptions<BusOptions> busOptions, IBus bus, IConfiguration configuration, TimeProvider time, ILogger<DemoPublisher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);

        var events = DemoJourneys.Create(time.GetUtcNow());
        if (busOptions.Value.Transport == BusTransport.InMemory)
        {
            foreach (var e in events)
                await bus.Publish(e, stoppingToken);
        }
        else
        {
            var rabbit = busOptions.Value.RabbitMq;
            var factory = new ConnectionFactory
            {
                HostName = rabbit.Host, Port = rabbit.Port, VirtualHost = rabbit.VirtualHost,
                UserName = rabbit.Username, Password = rabbit.Password, ClientProvidedName = "campaign-orchestrator-demo",
            };
            await using var connection = await factory.CreateConnectionAsync(stoppingToken);
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), stoppingToken);
            foreach (var e in events)
            {
                var body = JsonSerializer.SerializeToUtf8Bytes(e, JsonSerializerOptions.Web);
                var props = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent, MessageId = e.EventId };
                await channel.BasicPublishAsync(JourneyEventsTopology.ExchangeName, e.Type, true, props, body, stoppingToken);
            }
        }

        var urls = (configuration["Http:Urls"] ?? "http://127.0.0.1:5080").Split(';')[0].TrimEnd('/');
        var text = new StringBuilder();
        text.AppendLine($"Demo: published {events.Count} journey events for 3 shoppers. Look at them (infra/run.sh --demo printed the key to use):");
        foreach (var id in new[] { "demo-anna", "demo-bram", "demo-device-chloe" })
            text.AppendLine($"  curl -s -H \"Authorization: Bearer $CAMPAIGN_API_KEY\" {urls}/api/customers/{id}");
        logger.LogInformation("{DemoText}", text.ToString());
    }
}
