namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>The <c>Retargeting</c> section.</summary>
public sealed class RetargetingOptions
{
    public const string SectionName = "Retargeting";

    /// <summary>How long a membership lasts unless an exit ends it first.</summary>
    public TimeSpan Membership { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Customers who ordered this recently are kept out of audiences (no ads for what they just bought).</summary>
    public TimeSpan ExcludeBuyersWithin { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Ad-platform connectors that take audience changes as signed batched webhooks, by name.</summary>
    public Dictionary<string, ConnectorOptions> Connectors { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often waiting changes are posted to each connector.</summary>
    public TimeSpan ConnectorInterval { get; set; } = TimeSpan.FromSeconds(10);
}
