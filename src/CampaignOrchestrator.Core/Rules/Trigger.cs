using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>What starts a campaign instance for a customer. Exactly one kind is set.</summary>
public abstract record Trigger
{
    /// <summary>The trigger in a marketer's words: "on cart_abandoned", "after 60 days inactive in purchase", phases named in
    /// <paramref name="model"/> (the rules' phaseModel; default five-phase).</summary>
    public string Describe(PhaseVocabulary? model = null) => this switch
    {
        EventTrigger t => $"on {t.EventType}",
        PhaseEnteredTrigger t => $"on entering {Name(t.Phase, model)}",
        InactivityTrigger t => $"after {t.InactiveFor.TotalDays:0.#} days inactive" + (t.InPhase is { } p ? $" in {Name(p, model)}" : ""),
        ScheduleTrigger t => $"on schedule '{t.Cron}'",
        _ => GetType().Name,
    };

    static string Name(Phase phase, PhaseVocabulary? model) => model?.NameOf(phase) ?? phase.ToName();
}
