using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Journeys;

internal sealed class FunnelOptionsValidator : IValidateOptions<FunnelOptions>
{
    public ValidateOptionsResult Validate(string? name, FunnelOptions o)
    {
        var errors = new List<string>();
        if (o.RefreshInterval < TimeSpan.FromMilliseconds(100) || o.RefreshInterval > TimeSpan.FromHours(1))
            errors.Add($"Funnel:RefreshInterval must be between 00:00:00.1 and 01:00:00 (got {o.RefreshInterval})");
        if (o.SegmentScanLimit is < 1_000 or > 10_000_000)
            errors.Add($"Funnel:SegmentScanLimit must be 1000-10000000 (got {o.SegmentScanLimit})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
