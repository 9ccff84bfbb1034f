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
        {
            if (string.IsNullOrWhiteSpace(secret))
                errors.Add($"Webhooks:Secrets:{secretName} must not be empty");
            if (!o.SecretHosts.TryGetValue(secretName, out var hosts) || hosts.Count == 0)
                errors.Add($"Webhooks:SecretHosts:{secretName} must name the hosts secret '{secretName}' may sign for " +
                    $"(Webhooks__SecretHosts__{secretName}__0=crm.example.com; *.example.com for subdomains)");
            else
                foreach (var host in hosts.Where(h => Uri.CheckHostName(h.StartsWith("*.", StringComparison.Ordinal) ? h[2..] : h) == UriHostNameType.Unknown))
                    errors.Add($"Webhooks:SecretHosts:{secretName} holds '{host}', which is not a host name");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
