namespace CampaignOrchestrator.Infrastructure.Storage;

// Row shapes the Dapper statements read and write. Column names are snake_case of these.

internal sealed record LinkRow(string AnonymousId, string CustomerId, DateTimeOffset LinkedAt, string EventId);
