using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Health;

internal sealed class HealthOptionsValidator : IValidateOptions<HealthOptions>
{
    public ValidateOptionsResult Validate(string? name, HealthOptions o)
    {
        var errors = new List<string>();
        if (o.DispatcherStalledAfter < TimeSpan.FromSeconds(5))
            errors.Add($"Health:DispatcherStalledAfter must be at least 00:00:05 (got {o.DispatcherStalledAfter})");
        if (o.MaxFiringLag < TimeSpan.FromSeconds(1))
            errors.Add($"Health:MaxFiringLag must be at least 00:00:01 (got {o.MaxFiringLag})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
