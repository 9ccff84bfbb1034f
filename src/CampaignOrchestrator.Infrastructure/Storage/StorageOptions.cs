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

/// <summary>Fails the start with the key that is wrong.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Provider))
            failures.Add($"Storage:Provider must be Sqlite or Postgres, was '{options.Provider}'");
        if (options.ProfileCacheSize is < 0 or > 10_000_000)
            failures.Add($"Storage:ProfileCacheSize must be 0-10000000, was {options.ProfileCacheSize}");
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            failures.Add("Storage:ConnectionString is required");
        else
        {
            try
            {
                _ = options.Provider == StorageProvider.Postgres
                    ? (System.Data.Common.DbConnectionStringBuilder)new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString)
                    : new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(options.ConnectionString);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
            {
                failures.Add($"Storage:ConnectionString is not a valid {options.Provider} connection string: {ex.Message}");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
