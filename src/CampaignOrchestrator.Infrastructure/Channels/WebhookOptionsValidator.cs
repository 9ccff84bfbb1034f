using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels;

internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions o)
    {
        var errors = new List<string>();
        if (o.Timeout < TimeSpan.FromMilliseconds(100) || o.Timeout > TimeSpan.FromMinutes(5))
            errors.Add($"Webhooks:Timeout must be between 00:00:00.1 and 00:05:00 (got {o.Timeout})");
        foreach (var (secretName, secret) in o.Secrets)
            if (string.IsNullOrWhiteSpace(secret))
                errors.Add($"Webhooks:Secrets:{secretName} must not be empty");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
