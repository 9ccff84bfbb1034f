namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>A value that is JSON text: a json column on PostgreSQL, text on SQLite.</summary>
internal readonly record struct RawJson(string Json);
