namespace CampaignOrchestrator.Core.Rules;

/// <summary>What happens to pending steps when a new rules version changes their campaign.</summary>
public enum ChangeBehaviour
{
    /// <summary>They finish under the version they started with.</summary>
    Finish,

    /// <summary>They are cancelled and recorded.</summary>
    Exit,
}
