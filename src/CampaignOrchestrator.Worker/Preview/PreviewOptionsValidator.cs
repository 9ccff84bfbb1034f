using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Preview;

internal sealed class PreviewOptionsValidator : IValidateOptions<PreviewOptions>
{
    public ValidateOptionsResult Validate(string? name, PreviewOptions o)
    {
        var errors = new List<string>();
        if (o.MaxDays is < 1 or > 366)
            errors.Add($"Preview:MaxDays must be 1-366 (got {o.MaxDays})");
        if (o.MaxDuration < TimeSpan.FromSeconds(1) || o.MaxDuration > TimeSpan.FromHours(24))
            errors.Add($"Preview:MaxDuration must be from 00:00:01 to 1.00:00:00 (got {o.MaxDuration})");
        if (o.CpuShare is < 0.05 or > 1 || double.IsNaN(o.CpuShare))
            errors.Add($"Preview:CpuShare must be from 0.05 to 1 (got {o.CpuShare})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
