namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>One phase change.</summary>
public sealed record PhaseHistoryView(string Phase, DateTimeOffset At, string EventId);
