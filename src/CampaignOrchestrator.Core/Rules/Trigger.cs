using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>What starts a campaign instance for a customer. Exactly one kind is set.</summary>
public abstract record Trigger
{
    /// <summary>The trigger in a marketer's words: "on cart_abandoned", "after 60 days inactive in purchase".</summary>
    public string Describe() => this switch
    {
        EventTrigger t => $"on {t.EventType}",
        PhaseEnteredTrigger t => $"on entering {t.Phase.ToName()}",
        InactivityTrigger t => $"after {t.InactiveFor.TotalDays:0.#} days inactive" + (t.InPhase is { } p ? $" in {p.ToName()}" : ""),
        ScheduleTrigger t => $"on schedule '{t.Cron}'",
        _ => GetType().Name,
    };
}
