namespace CampaignOrchestrator.Contracts.Inbound;

/// <summary>Names of the inbound AMQP topology (wire contract v1).</summary>
public static class JourneyEventsTopology
{
    /// <summary>The durable topic exchange webshops publish to.</summary>
    public const string ExchangeName = "journey-events";

    /// <summary>The exchange type.</summary>
    public const string ExchangeType = "topic";

    /// <summary>The largest accepted body, in bytes (256 KiB).</summary>
    public const int MaxBodyBytes = 256 * 1024;
}
