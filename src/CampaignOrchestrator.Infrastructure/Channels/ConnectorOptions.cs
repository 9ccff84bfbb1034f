namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>An ad-platform connector (<c>Retargeting:Connectors:&lt;name&gt;</c>): where audience changes are posted, signed.</summary>
public sealed class ConnectorOptions
{
    public string Url { get; set; } = "";

    /// <summary>The signing secret (set it from the environment: <c>Retargeting__Connectors__meta__Secret</c>).</summary>
    public string Secret { get; set; } = "";
}
