namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>The <c>Webhooks</c> section: signing secrets by the name the rules use, and the per-attempt timeout.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>Secret by name (<c>Webhooks:Secrets:crm</c>); set them from the environment (<c>Webhooks__Secrets__crm</c>).</summary>
    public Dictionary<string, string> Secrets { get; set; } = new(StringComparer.Ordinal);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
