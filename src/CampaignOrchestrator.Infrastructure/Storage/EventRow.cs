namespace CampaignOrchestrator.Infrastructure.Storage;

// Row shapes the Dapper statements read and write. Column names are snake_case of these.

internal sealed record EventRow(
    string EventId, string ProfileId, string Type, DateTimeOffset OccurredAt, DateTimeOffset ReceivedAt,
    string? CustomerId, string? AnonymousId, string? Traits, string? Properties, string? Context);
