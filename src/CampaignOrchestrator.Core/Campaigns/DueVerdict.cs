namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>What happens to an action that fell due.</summary>
public enum DueVerdict
{
    /// <summary>Hand it to its channel now.</summary>
    Deliver,

    /// <summary>Not sent, for <see cref="DueDecision.Reason"/> (holdout, consent, cap with onCap: skip).</summary>
    Suppress,

    /// <summary>Moved to <see cref="DueDecision.Until"/> (quiet hours, or a cap with onCap: defer).</summary>
    Defer,
}
