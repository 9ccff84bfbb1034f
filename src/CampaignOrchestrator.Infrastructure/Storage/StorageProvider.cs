namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>Which database holds journeys.</summary>
public enum StorageProvider
{
    /// <summary>One embedded file (WAL mode): the zero-setup default for one worker.</summary>
    Sqlite,

    /// <summary>A shared PostgreSQL database: several workers, one store.</summary>
    Postgres,
}
