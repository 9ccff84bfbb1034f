namespace CampaignOrchestrator.Worker.Health;

/// <summary>The <c>Health</c> section: when <c>/health/ready</c> calls the dispatcher unhealthy.</summary>
public sealed class HealthOptions
{
    public const string SectionName = "Health";

    /// <summary>The dispatcher is stalled when its last poll ended longer ago than this.</summary>
    public TimeSpan DispatcherStalledAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Actions are firing too late when the latest of the last poll fell due longer ago than this.</summary>
    public TimeSpan MaxFiringLag { get; set; } = TimeSpan.FromMinutes(5);
}
