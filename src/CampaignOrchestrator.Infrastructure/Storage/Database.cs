using System.Data.Common;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>Opens connections to the configured store and knows its dialect.</summary>
internal sealed class Database
{
    readonly string _connectionString;

    public Database(IOptions<StorageOptions> options)
        : this(options.Value.Provider, options.Value.ConnectionString)
    {
    }

    public Database(StorageProvider provider, string connectionString)
    {
        DapperConfiguration.EnsureConfigured();
        Dialect = provider == StorageProvider.Postgres ? new PostgresDialect() : new SqliteDialect();
        _connectionString = provider == StorageProvider.Postgres ? PostgresDialect.Normalize(connectionString) : connectionString;
        if (provider == StorageProvider.Sqlite)
            SqliteDialect.EnsureDirectory(connectionString);
    }

    public SqlDialect Dialect { get; }

    public StorageProvider Provider => Dialect.Provider;

    public Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => Dialect.OpenAsync(_connectionString, cancellationToken);
}
