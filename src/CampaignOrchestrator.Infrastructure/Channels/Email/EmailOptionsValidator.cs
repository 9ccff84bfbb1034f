using Microsoft.Extensions.Options;
using MimeKit;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

internal sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions o)
    {
        var errors = new List<string>();
        if (!MailboxAddress.TryParse(o.From, out _))
            errors.Add($"Email:From must be an address like \"Shop <news@shop.example>\" (got '{o.From}')");
        if (string.IsNullOrWhiteSpace(o.Smtp.Host))
            errors.Add("Email:Smtp:Host is required");
        if (o.Smtp.Port is < 1 or > 65535)
            errors.Add($"Email:Smtp:Port must be 1-65535 (got {o.Smtp.Port})");
        if (!Enum.IsDefined(o.Smtp.Security))
            errors.Add($"Email:Smtp:Security must be None, StartTls or SslOnConnect (got '{o.Smtp.Security}')");
        if (o.Smtp.PoolSize is < 1 or > 64)
            errors.Add($"Email:Smtp:PoolSize must be 1-64 (got {o.Smtp.PoolSize})");
        if (string.IsNullOrEmpty(o.Smtp.Username) != string.IsNullOrEmpty(o.Smtp.Password))
            errors.Add("Email:Smtp:Username and Email:Smtp:Password go together (set both, from the environment, or neither)");
        if (o.Smtp.RetryAfter < TimeSpan.FromSeconds(1) || o.Smtp.PauseOnOutage < TimeSpan.FromSeconds(1))
            errors.Add($"Email:Smtp:RetryAfter and Email:Smtp:PauseOnOutage must be at least a second (got {o.Smtp.RetryAfter}, {o.Smtp.PauseOnOutage})");
        if (o.Smtp.Timeout <= TimeSpan.Zero)
            errors.Add($"Email:Smtp:Timeout must be positive (got {o.Smtp.Timeout})");
        if (!Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            errors.Add($"Email:PublicBaseUrl must be an http(s) address customers can open (got '{o.PublicBaseUrl}')");
        if (o.UnsubscribeLinkValidity < TimeSpan.FromDays(1))
            errors.Add($"Email:UnsubscribeLinkValidity must be at least a day (got {o.UnsubscribeLinkValidity})");
        if (o.ResolveTemplates() is null)
            errors.Add($"Email:Templates: no folder at '{o.Templates}' (looked in {Directory.GetCurrentDirectory()} and {AppContext.BaseDirectory})");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
