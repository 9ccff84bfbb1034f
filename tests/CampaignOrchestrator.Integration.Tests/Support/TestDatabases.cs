using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>
/// The store tests' one setup, the same on both databases: a fresh SQLite file in a folder of its own or a fresh
/// PostgreSQL database on the test server, the schema migrated, and dropped again afterwards.
/// </summary>
internal static class TestDatabases
{
    /// <summary>A new, empty database (no schema yet); its connection string.</summary>
    public static Task<string> CreateAsync(StorageProvider provider) => provider == StorageProvider.Postgres
        ? TestServers.CreatePostgresDatabaseAsync()
        : Task.FromResult($"Data Source={Path.Combine(Directory.CreateTempSubdirectory("co-store-").FullName, "store.db")}");

    /// <summary>Opens <paramref name="connectionString"/> as the worker does and migrates it to this release's schema.</summary>
    public static async Task<Database> OpenMigratedAsync(StorageProvider provider, string connectionString)
    {
        var database = new Database(provider, connectionString);
        await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
        return database;
    }

    /// <summary>Removes what <see cref="CreateAsync"/> made (the SQLite file's folder, or the PostgreSQL database).</summary>
    public static Task DropAsync(StorageProvider provider, string connectionString)
    {
        if (provider == StorageProvider.Postgres)
        {
            NpgsqlConnection.ClearAllPools();
            return TestServers.DropPostgresDatabaseAsync(connectionString);
        }
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(new SqliteConnectionStringBuilder(connectionString).DataSource)!, recursive: true);
        return Task.CompletedTask;
    }
}
