namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>An earlier instance of a campaign for a customer: when its first step was triggered.</summary>
internal sealed class FirstStep
{
    public string ProfileId { get; set; } = "";
    public string CampaignId { get; set; } = "";
    public DateTimeOffset TriggeredAt { get; set; }
}
