namespace CampaignOrchestrator.Infrastructure.Storage;

// Row shapes the Dapper statements read and write. Column names are snake_case of these.

internal sealed record PhaseHistoryRow(string ProfileId, string EventId, string Phase, DateTimeOffset OccurredAt);
