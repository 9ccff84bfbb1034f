using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Journeys;

/// <summary>One entry of a customer's phase history: the phase entered, when, and the event that caused it.</summary>
public sealed record PhaseChange(Phase Phase, DateTimeOffset At, string EventId);
