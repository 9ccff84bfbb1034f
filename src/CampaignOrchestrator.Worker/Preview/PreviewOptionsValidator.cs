using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Preview;

internal sealed class PreviewOptionsValidator : IValidateOptions<PreviewOptions>
{
    public ValidateOptionsResult Validate(string? name, PreviewOptions o) =>
        o.MaxDays is < 1 or > 366 ? ValidateOptionsResult.Fail($"Preview:MaxDays must be 1-366 (got {o.MaxDays})") : ValidateOptionsResult.Success;
}
