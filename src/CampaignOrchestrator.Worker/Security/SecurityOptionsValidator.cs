using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Security;

internal sealed partial class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex KeyName();

    public ValidateOptionsResult Validate(string? name, SecurityOptions o)
    {
        var errors = new List<string>();
        foreach (var (keyName, key) in o.ApiKeys)
        {
            if (!KeyName().IsMatch(keyName))
                errors.Add($"Security:ApiKeys:{keyName} must be named with 1-64 letters, digits, '.', '_' or '-'");
            if (!Sha256Hex().IsMatch(key.Sha256 ?? ""))
                errors.Add($"Security:ApiKeys:{keyName}:Sha256 must be the lower-case hex SHA-256 of the key (64 characters; `keys create` prints it)");
            if (!ApiRoles.All.Contains(key.Role))
                errors.Add($"Security:ApiKeys:{keyName}:Role must be one of {string.Join(", ", ApiRoles.All)} (got '{key.Role}')");
        }
        foreach (var duplicate in o.ApiKeys.GroupBy(k => k.Value.Sha256).Where(g => g.Count() > 1))
            errors.Add($"Security:ApiKeys: {string.Join(" and ", duplicate.Select(k => k.Key))} have the same key");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
