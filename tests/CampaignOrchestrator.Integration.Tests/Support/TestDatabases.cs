using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>
/// The store tests' one setup, the same on both databases: a fresh SQLite file in a folder of its own or a fresh
/// PostgreSQL database on the test server, dropped again afterwards. A migrated one is a copy of a template this
/// build's migrations made once per test run (PostgreSQL: <c>CREATE DATABASE … TEMPLATE</c>; SQLite: a file copy),
/// so each test does not run every migration again; an empty one is for the tests of the migrations themselves.
/// </summary>
internal static class TestDatabases
{
    /// <summary>A new, empty database (no schema yet); its connection string.</summary>
    public static Task<string> CreateAsync(StorageProvider provider) => provider == StorageProvider.Postgres
        ? TestServers.CreatePostgresDatabaseAsync()
        : Task.FromResult(NewSqliteFile());

    /// <summary>A new database with this release's schema (a copy of the migrated template); its connection string.</summary>
    public static async Task<string> CreateMigratedAsync(StorageProvider provider)
    {
        if (provider == StorageProvider.Postgres)
            return await TestServers.CreatePostgresDatabaseAsync(await PostgresTemplate.Value);
        var template = await SqliteTemplate.Value;
        var connectionString = NewSqliteFile();
        File.Copy(template, new SqliteConnectionStringBuilder(connectionString).DataSource);
        return connectionString;
    }

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
            return TestServers.DropPostgresDatabaseAsync(connectionString);
        SqliteConnection.ClearPool(new SqliteConnection(connectionString));
        try { Directory.Delete(Path.GetDirectoryName(new SqliteConnectionStringBuilder(connectionString).DataSource)!, recursive: true); }
        catch (IOException) { }
        return Task.CompletedTask;
    }

    static string NewSqliteFile() => $"Data Source={Path.Combine(Directory.CreateTempSubdirectory("co-store-").FullName, "store.db")}";

    // The migrations are this build's (code steps included): the template is named after the build of the store.
    static readonly string Build = typeof(Database).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..12];

    static readonly Lazy<Task<string>> SqliteTemplate = new(async () =>
    {
        var connectionString = NewSqliteFile();
        await OpenMigratedAsync(StorageProvider.Sqlite, connectionString);
        SqliteConnection.ClearPool(new SqliteConnection(connectionString));   // the last close checkpoints the WAL into the file
        return new SqliteConnectionStringBuilder(connectionString).DataSource;
    });

    static readonly Lazy<Task<string>> PostgresTemplate = new(async () =>
    {
        var name = "co_template_" + Build;
        await using var admin = new NpgsqlConnection(TestServers.PostgresAdmin);
        await admin.OpenAsync();
        await using (var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @name", admin))
        {
            exists.Parameters.AddWithValue("name", name);
            if ((long)(await exists.ExecuteScalarAsync())! > 0)
                return name;
        }
        // Built under another name and renamed when complete: a run stopped half-way leaves no half template.
        var building = await TestServers.CreatePostgresDatabaseAsync();
        await OpenMigratedAsync(StorageProvider.Postgres, building);
        NpgsqlConnection.ClearAllPools();   // once a run, before any test's database is open
        var buildingName = new NpgsqlConnectionStringBuilder(building).Database;
        foreach (var sql in new[]
                 {
                     $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{buildingName}' AND pid <> pg_backend_pid()",
                     $"ALTER DATABASE {buildingName} RENAME TO {name}",
                     $"ALTER DATABASE {name} WITH IS_TEMPLATE true",
                 })
        {
            await using var cmd = new NpgsqlCommand(sql, admin);
            await cmd.ExecuteNonQueryAsync();
        }
        // Templates of earlier builds go.
        var stale = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE 'co\\_template\\_%' AND datname <> @name", admin))
        {
            list.Parameters.AddWithValue("name", name);
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                stale.Add(reader.GetString(0));
        }
        foreach (var old in stale)
        {
            await using var drop = new NpgsqlCommand($"ALTER DATABASE {old} WITH IS_TEMPLATE false; DROP DATABASE IF EXISTS {old} WITH (FORCE)", admin);
            try { await drop.ExecuteNonQueryAsync(); } catch (PostgresException) { }
        }
        return name;
    });
}
