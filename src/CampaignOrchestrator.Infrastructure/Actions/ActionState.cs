namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>An action's campaign, step and customer, and what it became (<see cref="ActionStatus"/>, with its reason).</summary>
internal sealed class ActionState
{
    public string CampaignId { get; set; } = "";
    public int Step { get; set; }
    public string ProfileId { get; set; } = "";
    public string Status { get; set; } = "";
    public string? Reason { get; set; }
}
