using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>The customer enters this phase.</summary>
public sealed record PhaseEnteredTrigger(Phase Phase) : Trigger;
