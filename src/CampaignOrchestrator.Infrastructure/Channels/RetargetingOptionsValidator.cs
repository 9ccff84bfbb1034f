using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels;

internal sealed class RetargetingOptionsValidator : IValidateOptions<RetargetingOptions>
{
    public ValidateOptionsResult Validate(string? name, RetargetingOptions o)
    {
        var errors = new List<string>();
        if (o.Membership <= TimeSpan.Zero)
            errors.Add($"Retargeting:Membership must be positive (got {o.Membership})");
        if (o.ExcludeBuyersWithin < TimeSpan.Zero)
            errors.Add($"Retargeting:ExcludeBuyersWithin must not be negative (got {o.ExcludeBuyersWithin})");
        if (o.ConnectorInterval < TimeSpan.FromSeconds(1))
            errors.Add($"Retargeting:ConnectorInterval must be at least 00:00:01 (got {o.ConnectorInterval})");
        foreach (var (connector, c) in o.Connectors)
        {
            if (!Uri.TryCreate(c.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                errors.Add($"Retargeting:Connectors:{connector}:Url must be an http(s) address (got '{c.Url}')");
            if (string.IsNullOrWhiteSpace(c.Secret))
                errors.Add($"Retargeting:Connectors:{connector}:Secret must not be empty");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
