using Microsoft.Extensions.Options;
using MimeKit;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

public enum SmtpSecurity
{
    None,
    StartTls,
    SslOnConnect,
}

/// <summary>The <c>Email</c> section.</summary>
public sealed class EmailOptions
{
    public const string SectionName = "Email";

    /// <summary>The sender, <c>"Shop &lt;news@shop.example&gt;"</c>; its domain also names the Message-IDs.</summary>
    public string From { get; set; } = "Campaigns <campaigns@localhost>";

    /// <summary>The templates folder (looked up from the current folder, then the worker's own, which ships <c>templates/</c>).</summary>
    public string Templates { get; set; } = "templates";

    public string DefaultLocale { get; set; } = "en";

    /// <summary>Where customers reach the worker's unsubscribe page: the base of the links in marketing email.</summary>
    public string PublicBaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>How long an unsubscribe link works.</summary>
    public TimeSpan UnsubscribeLinkValidity { get; set; } = TimeSpan.FromDays(90);

    public SmtpOptions Smtp { get; set; } = new();

    public string? ResolveTemplates()
    {
        if (Path.IsPathRooted(Templates))
            return Directory.Exists(Templates) ? Templates : null;
        return new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory }
            .Select(root => Path.GetFullPath(Path.Combine(root, Templates)))
            .FirstOrDefault(Directory.Exists);
    }
}

public sealed class SmtpOptions
{
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 2525;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.None;

    /// <summary>Set with <see cref="Password"/> to authenticate; set both from the environment.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Connections kept open and used at once (a MailKit client serves one sender at a time).</summary>
    public int PoolSize { get; set; } = 4;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A mail that failed for a passing reason after its retries waits this long, pending, before it falls due again.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the circuit stays open (no sending at all) once half the recent sends failed.</summary>
    public TimeSpan PauseOnOutage { get; set; } = TimeSpan.FromSeconds(30);
}

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
