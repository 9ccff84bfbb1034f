using CampaignOrchestrator.Contracts.Inbound;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// Whether RabbitMQ refuses large messages at the publisher. The worker refuses a body over the contract's 256 KiB before
/// it parses it, but AMQP hands a consumer every message whole: the client library reads all of it into memory (a pooled
/// buffer the size of the body) before any code of the worker sees its size, and the pool keeps such buffers. Measured:
/// forty 16 MB bodies left the worker about 650 MB bigger. Only the broker can refuse them before they are buffered:
/// <c>max_message_size</c> in rabbitmq.conf (infra/services.sh sets 524288). A client-side limit is no substitute: it
/// closes the connection, the broker hands the message back, and the queue stalls on it. So at start the worker publishes
/// one message just over <see cref="ProbeBytes"/> to no queue: a broker with a limit below it closes the channel; one
/// without takes it (and drops it, routed nowhere). The answer is logged and shown by readiness (check <c>bus-limits</c>).
/// </summary>
public sealed class BrokerMessageLimit(IOptions<BusOptions> options, ILogger<BrokerMessageLimit> logger) : BackgroundService
{
    /// <summary>The probe's size: a broker should refuse bodies this large (the contract's limit is 256 KiB).</summary>
    public const int ProbeBytes = 1024 * 1024;

    /// <summary>True: the broker refused the probe; false: it took it; null: not known (not checked yet, or the check failed).</summary>
    public bool? Refuses { get; private set; }

    public string? Detail { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Transport != BusTransport.RabbitMq)
            return;
        try
        {
            await using var connection = await options.Value.RabbitMq.ConnectAsync("campaign-orchestrator-limit-probe", stoppingToken);
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), stoppingToken);
            try
            {
                // The default exchange and a queue name nobody declares: taken, it is dropped at once.
                await channel.BasicPublishAsync("", "campaign-orchestrator.size-probe." + Guid.NewGuid().ToString("N"), false,
                    new BasicProperties(), new byte[ProbeBytes + 1], stoppingToken);
                (Refuses, Detail) = (false, $"RabbitMQ takes messages over {ProbeBytes / 1024} KiB: set max_message_size = 524288 in rabbitmq.conf, " +
                    "or a large message costs the worker its size in memory before it can refuse it (the contract's limit is " +
                    $"{JourneyEventsTopology.MaxBodyBytes / 1024} KiB)");
                Log.BrokerTakesLargeMessages(logger, ProbeBytes / 1024);
            }
            catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.OperationInterruptedException or RabbitMQ.Client.Exceptions.AlreadyClosedException
                                           or RabbitMQ.Client.Exceptions.PublishException)
            {
                (Refuses, Detail) = (true, $"RabbitMQ refuses messages over {ProbeBytes / 1024} KiB at the publisher");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            Detail = "not checked: " + ex.Message;   // the bus check says whether RabbitMQ is reachable
        }
    }
}
