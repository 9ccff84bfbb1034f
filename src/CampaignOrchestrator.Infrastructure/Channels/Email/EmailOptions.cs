using Microsoft.Extensions.Options;
using MimeKit;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

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
