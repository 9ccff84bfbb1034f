using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>The <c>Bus</c> section of appsettings.json.</summary>
public sealed class BusOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Bus";

    /// <summary><c>RabbitMq</c> (default) or <c>InMemory</c>.</summary>
    public BusTransport Transport { get; set; } = BusTransport.RabbitMq;

    /// <summary>The worker's own durable queue, bound to <c>journey-events</c> with <c>#</c>.</summary>
    public string QueueName { get; set; } = "campaign-orchestrator.journey-events";

    /// <summary>How many messages the worker handles at once; also the largest store batch it can form. Default 256.</summary>
    public int ConcurrentMessageLimit { get; set; } = 256;

    /// <summary>How often the journey write buffer retries a transient store failure (database down), with jittered exponential backoff from 0.2 s up to 60 s, before its messages go to the error queue. Default 12 (about 5 minutes); 0 turns retries off.</summary>
    public int RetryLimit { get; set; } = 12;

    /// <summary>RabbitMQ connection.</summary>
    public RabbitMqOptions RabbitMq { get; set; } = new();

    /// <summary>The bounds an event must keep to be accepted (<c>Bus:Events</c>): its time window and its traits.</summary>
    public Core.Events.EventLimits Events { get; set; } = new();
}
