using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Security;

internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions o)
    {
        var errors = new List<string>();
        if (o.PlacementsPerSecond is < 0 or > 1_000_000)
            errors.Add($"RateLimits:PlacementsPerSecond must be 0 (off) to 1000000 (got {o.PlacementsPerSecond})");
        if (o.UnsubscribePerMinute is < 0 or > 100_000)
            errors.Add($"RateLimits:UnsubscribePerMinute must be 0 (off) to 100000 (got {o.UnsubscribePerMinute})");
        if (o.FailedAuthenticationsPerMinute is < 0 or > 100_000)
            errors.Add($"RateLimits:FailedAuthenticationsPerMinute must be 0 (off) to 100000 (got {o.FailedAuthenticationsPerMinute})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
