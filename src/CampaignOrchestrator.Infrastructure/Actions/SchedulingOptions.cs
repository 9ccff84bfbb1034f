namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>The <c>Scheduling</c> section: how due actions are claimed and fired.</summary>
public sealed class SchedulingOptions
{
    public const string SectionName = "Scheduling";

    /// <summary>How often an idle claimer looks for due actions. Bounds the firing lag.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Most actions claimed at once.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How long a claim holds (PostgreSQL): after this, actions claimed by a worker that died are claimed again.</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// PostgreSQL, several workers: how often each checks in with the clustered Quartz scheduler that runs the schedules
    /// and the inactivity scan, and after how long without a check-in a worker counts as gone, its firings taken over
    /// by another (the hand-over takes up to about the sum).
    /// </summary>
    public TimeSpan ClusterCheckIn { get; set; } = TimeSpan.FromSeconds(10);

    /// <inheritdoc cref="ClusterCheckIn"/>
    public TimeSpan ClusterFailoverAfter { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often the inactivity scan looks for customers who went quiet (a Quartz job).</summary>
    public TimeSpan InactivityScanInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Due actions delivered at once (a poll's emails go out over as many pooled connections, webhooks in parallel).</summary>
    public int DeliveryConcurrency { get; set; } = 16;

    /// <summary>An action fired this long after its due time is recorded as late (a worker was down).</summary>
    public TimeSpan LateAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A delivery that threw for a passing reason (database busy, connection reset) falls due again this much later.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// PostgreSQL: a worker whose clock is further than this from the database's fires nothing until they agree (it would
    /// fire delayed steps early, or late); the other workers go on. Checked every half minute.
    /// </summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(5);
}
