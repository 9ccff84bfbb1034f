using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>No event for this long (optionally only customers in <paramref name="InPhase"/>).</summary>
public sealed record InactivityTrigger(TimeSpan InactiveFor, Phase? InPhase) : Trigger;
