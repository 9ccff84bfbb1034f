namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>Names of the outbound AMQP topology (wire contract v1).</summary>
public static class CampaignActionsTopology
{
    /// <summary>The durable topic exchange the worker publishes to (and declares).</summary>
    public const string ExchangeName = "campaign-actions";

    /// <summary>The exchange type.</summary>
    public const string ExchangeType = "topic";
}
