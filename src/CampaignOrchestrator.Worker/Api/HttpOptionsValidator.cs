using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Api;

internal sealed class HttpOptionsValidator : IValidateOptions<HttpOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpOptions o)
    {
        var errors = new List<string>();
        var operators = HttpOptions.Parse(o.Urls);
        if (operators.Count == 0 || operators.Any(u => u is null || u.Scheme is not ("http" or "https")))
            errors.Add($"Http:Urls must be one or more http(s) addresses separated by ';' (got '{o.Urls}')");
        var publics = o.PublicAddresses;
        if (publics.Any(u => u is null || u.Scheme is not ("http" or "https") || u.IsDefaultPort && !o.PublicUrls.Contains(":" + u.Port, StringComparison.Ordinal) || u.Port == 0))
            errors.Add($"Http:PublicUrls must be http(s) addresses with an explicit port other than 0, separated by ';' (got '{o.PublicUrls}')");
        else if (publics.Any(p => operators.Any(op => op is not null && op.Port == p.Port)))
            errors.Add("Http:PublicUrls must use other ports than Http:Urls (a port is either public or the operators')");
        if (o.MaxRequestBodyBytes is < 1024 or > 100 * 1024 * 1024)
            errors.Add($"Http:MaxRequestBodyBytes must be between 1024 and 104857600 (got {o.MaxRequestBodyBytes})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
