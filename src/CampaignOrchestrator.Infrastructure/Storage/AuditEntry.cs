namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>One operator action: who (the API key's name), what, when, on what, and how it went.</summary>
public sealed class AuditEntry
{
    public long Seq { get; set; }
    public DateTimeOffset At { get; set; }
    public string KeyName { get; set; } = "";
    public string Action { get; set; } = "";
    public string? Target { get; set; }
    public string? Detail { get; set; }
}
