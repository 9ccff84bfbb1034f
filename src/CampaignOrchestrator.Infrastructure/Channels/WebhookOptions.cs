namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>The <c>Webhooks</c> section: signing secrets by the name the rules use, and the per-attempt timeout.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>Secret by name (<c>Webhooks:Secrets:crm</c>); set them from the environment (<c>Webhooks__Secrets__crm</c>).</summary>
    public Dictionary<string, string> Secrets { get; set; } = new(StringComparer.Ordinal);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The hosts each secret may sign for (<c>Webhooks:SecretHosts:crm:0 = crm.example.com</c>; <c>*.example.com</c> for its
    /// subdomains): a step whose url is elsewhere fails instead of handing the signature to another host. Every secret names some.
    /// </summary>
    public Dictionary<string, List<string>> SecretHosts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Lets webhooks reach loopback, link-local and private addresses (an administrator's choice; default false:
    /// public addresses only, so no rule reaches the worker's own API or a cloud's metadata service).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Whether <paramref name="secretName"/> may sign a request to <paramref name="host"/>.</summary>
    public bool MaySign(string secretName, string host) =>
        SecretHosts.TryGetValue(secretName, out var hosts) && hosts.Any(h => h.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(h[1..], StringComparison.OrdinalIgnoreCase) && host.Length > h.Length - 1
            : string.Equals(h, host, StringComparison.OrdinalIgnoreCase));
}
