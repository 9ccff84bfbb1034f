using System.Net.Mime;
using CampaignOrchestrator.Contracts.Inbound;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Infrastructure.Messaging;
using MassTransit;
using MassTransit.Middleware;

namespace CampaignOrchestrator.Worker.Hosting;

/// <summary>
/// Where events enter: the worker's durable queue bound to the <c>journey-events</c> topic exchange
/// with <c>#</c> (raw JSON from any AMQP client) and to MassTransit's exchange for the typed
/// <see cref="JourneyEvent"/> (a .NET publisher with default settings). Both reach one consumer.
/// </summary>
internal static class InboundRegistration
{
    public static IHostApplicationBuilder AddInbound(this IHostApplicationBuilder builder)
    {
        var options = builder.BindValidated(BusOptions.SectionName, new BusOptionsValidator());
        builder.Services.AddSingleton<InboundMetrics>();
        builder.Services.AddSingleton<ErrorQueue>();
        builder.Services.AddSingleton<BrokerMessageLimit>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BrokerMessageLimit>());
        builder.Services.AddSingleton<JourneyEventConsumer>();
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            // Do not report started before the queue is bound: messages published right after start
            // were lost otherwise (docs/stack-notes.md §2).
            o.WaitUntilStarted = true;
            o.StartTimeout = TimeSpan.FromSeconds(60);
        });
        builder.Services.AddMassTransit(x =>
        {
            // No usage reports to MassTransit's makers: offline the report fails and logs a stack trace every few minutes.
            x.ConfigureUsageTelemetryOptions(o => o.Enabled = false);
            if (options.Transport == BusTransport.InMemory)
            {
                x.UsingInMemory((context, cfg) =>
                    cfg.ReceiveEndpoint(options.QueueName, e =>
                    {
                        e.Bind<JourneyEvent>();
                        ConfigureEndpoint(e, context, options);
                    }));
                return;
            }
            x.UsingRabbitMq((context, cfg) =>
            {
                var rabbit = options.RabbitMq;
                var nodes = rabbit.Nodes();
                cfg.Host(nodes[0].Host, (ushort)nodes[0].Port, rabbit.VirtualHost, "campaign-orchestrator", h =>
                {
                    h.Username(rabbit.Username);
                    h.Password(rabbit.Password);
                    // A cluster: the worker connects to a node that answers and moves to another when its node goes.
                    if (nodes.Count > 1)
                        h.UseCluster(c =>
                        {
                            foreach (var (host, port) in nodes)
                                c.Node($"{host}:{port}");
                        });
                });
                if (rabbit.Quorum)
                {
                    cfg.SendTopology.ConfigureErrorSettings = q => q.SetQuorumQueue();
                    cfg.SendTopology.ConfigureDeadLetterSettings = q => q.SetQuorumQueue();
                }
                cfg.ReceiveEndpoint(options.QueueName, e =>
                {
                    e.PrefetchCount = rabbit.PrefetchCount;
                    if (rabbit.Quorum)
                    {
                        // Replicated on the cluster's nodes: a node that goes loses nothing. The error and skipped queues too.
                        e.SetQuorumQueue();
                    }
                    e.Bind(JourneyEventsTopology.ExchangeName, b =>
                    {
                        b.ExchangeType = JourneyEventsTopology.ExchangeType;
                        b.Durable = true;
                        b.AutoDelete = false;
                        b.RoutingKey = "#";
                    });
                    e.Bind<JourneyEvent>();
                    ConfigureEndpoint(e, context, options);
                });
            });
        });
        return builder;
    }

    static void ConfigureEndpoint(IReceiveEndpointConfigurator e, IBusRegistrationContext context, BusOptions options)
    {
        e.ConfigureConsumeTopology = false;
        e.ConcurrentMessageLimit = options.ConcurrentMessageLimit;
        // Webshops publish plain JSON, with or without a content type.
        e.DefaultContentType = new ContentType("application/json");
        // Raw JSON, with an oversized body refused before it is parsed (to the error queue, with the reason); the same
        // for MassTransit's envelope (a .NET publisher).
        var metrics = context.GetRequiredService<InboundMetrics>();
        var consumerLog = context.GetRequiredService<ILoggerFactory>().CreateLogger<JourneyEventConsumer>();
        e.AddDeserializer(new SizeLimitedSerializerFactory(new MassTransit.Configuration.SystemTextJsonRawMessageSerializerFactory(RawSerializerOptions.AnyMessageType),
            metrics, consumerLog), isDefault: true);
        e.AddDeserializer(new SizeLimitedSerializerFactory(new MassTransit.Configuration.SystemTextJsonMessageSerializerFactory(), metrics, consumerLog));
        // Failed messages are logged, then go where MassTransit sends them by default: a Fault event and the error queue.
        var faults = new FaultLogFilter(context.GetRequiredService<InboundMetrics>(), context.GetRequiredService<ILoggerFactory>().CreateLogger<JourneyEventConsumer>());
        e.ConfigureError(x =>
        {
            x.UseFilter(faults);
            x.UseFilter(new GenerateFaultFilter());
            x.UseFilter(new ErrorTransportFilter());
        });
        // No message retry here: the journey write buffer retries transient store failures itself, a
        // batch at a time (one retry loop instead of one per message; measured: docs/benchmarks.md),
        // and a message that breaks the contract is never retried.
        // One consumer instance for every message (it holds no per-message state): no DI scope a message.
        e.Instance(context.GetRequiredService<JourneyEventConsumer>());
    }
}
