using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels;

internal sealed class PlacementOptionsValidator : IValidateOptions<PlacementOptions>
{
    public ValidateOptionsResult Validate(string? name, PlacementOptions o)
    {
        var errors = new List<string>();
        if (o.ApiKey is { Length: > 0 and < 16 })
            errors.Add($"Placements:ApiKey must be at least 16 characters (got {o.ApiKey.Length})");
        foreach (var (slot, creative) in o.Defaults)
            if (string.IsNullOrWhiteSpace(creative))
                errors.Add($"Placements:Defaults:{slot} must name a creative");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
