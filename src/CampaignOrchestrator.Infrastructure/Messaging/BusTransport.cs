namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>Which transport carries journey events.</summary>
public enum BusTransport
{
    /// <summary>RabbitMQ: the production transport (wire contract v1).</summary>
    RabbitMq,

    /// <summary>MassTransit's in-memory transport: fast tests and the single-process demo only.</summary>
    InMemory,
}
