using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>The <c>Storage</c> section of appsettings.json.</summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Storage";

    /// <summary><c>Sqlite</c> (default) or <c>Postgres</c>.</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>
    /// ADO.NET connection string. Default: <c>Data Source=.data/campaign-orchestrator.db</c> (SQLite).
    /// For PostgreSQL, <c>Timezone=UTC</c> is added when missing.
    /// </summary>
    public string ConnectionString { get; set; } = "Data Source=.data/campaign-orchestrator.db";

    /// <summary>The default of <see cref="ProfileCacheSize"/>.</summary>
    public const int DefaultProfileCacheSize = 20_000;

    /// <summary>
    /// SQLite only: how many recently written profiles the worker keeps in memory so a batch need not
    /// read them back (about 1-2 KB each). 0 turns it off. Default 20,000.
    /// </summary>
    public int ProfileCacheSize { get; set; } = DefaultProfileCacheSize;
}
