using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Actions;

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
        if (o.RetryAfter < TimeSpan.FromSeconds(1) || o.RetryAfter > TimeSpan.FromDays(1))
            errors.Add($"Scheduling:RetryAfter must be between 00:00:01 and 1.00:00:00 (got {o.RetryAfter})");
        if (o.ClusterCheckIn < TimeSpan.FromSeconds(1) || o.ClusterCheckIn > TimeSpan.FromMinutes(10))
            errors.Add($"Scheduling:ClusterCheckIn must be between 00:00:01 and 00:10:00 (got {o.ClusterCheckIn})");
        if (o.ClusterFailoverAfter <= o.ClusterCheckIn)
            errors.Add($"Scheduling:ClusterFailoverAfter must be longer than Scheduling:ClusterCheckIn (got {o.ClusterFailoverAfter} and {o.ClusterCheckIn})");
        if (o.MaxClockSkew < TimeSpan.FromMilliseconds(500))
            errors.Add($"Scheduling:MaxClockSkew must be at least 00:00:00.5 (got {o.MaxClockSkew})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
