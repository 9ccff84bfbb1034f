namespace CampaignOrchestrator.Core.Phases;

/// <summary>
/// The default five-phase journey. The numeric value is the rank: a customer's phase only moves
/// to a higher rank through the event mapping (a rule may reset it).
/// </summary>
public enum Phase
{
    /// <summary>touch, see, reach.</summary>
    Awareness = 1,

    /// <summary>tell, think, act.</summary>
    Consideration = 2,

    /// <summary>sell, do, convert.</summary>
    Purchase = 3,

    /// <summary>care, service, engage.</summary>
    Retention = 4,

    /// <summary>advocacy: reviews, referrals, a second order.</summary>
    Loyalty = 5,
}
