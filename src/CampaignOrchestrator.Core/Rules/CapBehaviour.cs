namespace CampaignOrchestrator.Core.Rules;

/// <summary>What happens to a send the cap does not allow now.</summary>
public enum CapBehaviour
{
    /// <summary>Moved to when the cap allows it.</summary>
    Defer,

    /// <summary>Dropped (and recorded).</summary>
    Skip,
}
