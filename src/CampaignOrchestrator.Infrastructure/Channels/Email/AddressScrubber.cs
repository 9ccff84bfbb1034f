using System.Text.RegularExpressions;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>
/// Takes email addresses out of text that leaves the channel: an SMTP server's reply often quotes the recipient
/// (<c>550 5.1.1 &lt;anna@example.com&gt;: Recipient address rejected</c>), in whatever case or form it likes, and that text
/// becomes the action's reason, its log row and the published <c>email.failed</c>. Every address-shaped word becomes
/// <c>&lt;address&gt;</c>.
/// </summary>
internal static partial class AddressScrubber
{
    public const string Placeholder = "<address>";

    public static string Scrub(string text) => Address().Replace(text, Placeholder);

    // A local part of printable characters without spaces, brackets or quotes; '@'; a domain of at least one dot-free label.
    [GeneratedRegex(@"[^\s<>()\[\]""',;:@]+@[^\s<>()\[\]""',;:@]+", RegexOptions.CultureInvariant)]
    private static partial Regex Address();
}
