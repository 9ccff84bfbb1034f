using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

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

    /// <summary>How often the inactivity scan looks for customers who went quiet (a Quartz job).</summary>
    public TimeSpan InactivityScanInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Due actions delivered at once (a poll's emails go out over as many pooled connections, webhooks in parallel).</summary>
    public int DeliveryConcurrency { get; set; } = 16;

    /// <summary>An action fired this long after its due time is recorded as late (a worker was down).</summary>
    public TimeSpan LateAfter { get; set; } = TimeSpan.FromMinutes(1);
}

internal sealed class SchedulingOptionsValidator : IValidateOptions<SchedulingOptions>
{
    public ValidateOptionsResult Validate(string? name, SchedulingOptions o)
    {
        var errors = new List<string>();
        if (o.PollInterval <= TimeSpan.Zero || o.PollInterval > TimeSpan.FromMinutes(1))
            errors.Add($"Scheduling:PollInterval must be between 00:00:00.001 and 00:01:00 (got {o.PollInterval})");
        if (o.BatchSize is < 1 or > 10_000)
            errors.Add($"Scheduling:BatchSize must be 1-10000 (got {o.BatchSize})");
        if (o.ClaimLease < TimeSpan.FromSeconds(5))
            errors.Add($"Scheduling:ClaimLease must be at least 00:00:05 (got {o.ClaimLease})");
        if (o.InactivityScanInterval < TimeSpan.FromSeconds(1))
            errors.Add($"Scheduling:InactivityScanInterval must be at least 00:00:01 (got {o.InactivityScanInterval})");
        if (o.DeliveryConcurrency is < 1 or > 256)
            errors.Add($"Scheduling:DeliveryConcurrency must be 1-256 (got {o.DeliveryConcurrency})");
        if (o.LateAfter < TimeSpan.Zero)
            errors.Add($"Scheduling:LateAfter must not be negative (got {o.LateAfter})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
