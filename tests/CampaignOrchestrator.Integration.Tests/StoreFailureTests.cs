using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Which store failures the write buffer retries (they go away by themselves) and which it does
/// not (retrying a statement the database rejects only delays the error queue). Real failures
/// from real servers, not constructed exceptions.
/// </summary>
public sealed class StoreFailureTests
{
    [Fact]
    public async Task An_unreachable_PostgreSQL_is_transient()
    {
        // Nothing listens on port 9 of the loopback interface.
        await using var connection = new NpgsqlConnection("Host=127.0.0.1;Port=9;Username=x;Password=x;Timeout=2");
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => connection.OpenAsync());
        Assert.True(TransientErrors.IsTransient(ex), ex.ToString());
    }

    [Fact]
    public async Task A_PostgreSQL_database_refusing_connections_is_transient_and_a_rejected_statement_is_not()
    {
        TestServers.RequirePostgres();
        var cs = await TestServers.CreatePostgresDatabaseAsync();
        try
        {
            await using (var connection = new NpgsqlConnection(cs))
            {
                await connection.OpenAsync();
                await using var bad = new NpgsqlCommand("SELECT no_such_column FROM pg_class", connection);
                var rejected = await Assert.ThrowsAsync<PostgresException>(() => bad.ExecuteNonQueryAsync());
                Assert.False(TransientErrors.IsTransient(rejected), rejected.SqlState);
            }
            var database = new NpgsqlConnectionStringBuilder(cs).Database!;
            await using (var admin = new NpgsqlConnection(TestServers.PostgresAdmin))
            {
                await admin.OpenAsync();
                await using var refuse = new NpgsqlCommand($"ALTER DATABASE {database} ALLOW_CONNECTIONS false", admin);
                await refuse.ExecuteNonQueryAsync();
            }
            NpgsqlConnection.ClearAllPools();
            await using var refused = new NpgsqlConnection(cs);
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => refused.OpenAsync());
            Assert.True(TransientErrors.IsTransient(ex), ex.ToString());
        }
        finally
        {
            await using (var admin = new NpgsqlConnection(TestServers.PostgresAdmin))
            {
                await admin.OpenAsync();
                await using var allow = new NpgsqlCommand($"ALTER DATABASE {new NpgsqlConnectionStringBuilder(cs).Database} ALLOW_CONNECTIONS true", admin);
                await allow.ExecuteNonQueryAsync();
            }
            await TestServers.DropPostgresDatabaseAsync(cs);
        }
    }

    [Fact]
    public async Task A_busy_SQLite_file_is_transient_and_a_broken_constraint_is_not()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("co-fail-").FullName, "f.db");
        await using var first = new SqliteConnection($"Data Source={file};Default Timeout=1;Pooling=false");
        await first.OpenAsync();
        await using (var create = first.CreateCommand())
        {
            create.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);";
            await create.ExecuteNonQueryAsync();
        }
        await using (var duplicate = first.CreateCommand())
        {
            duplicate.CommandText = "INSERT INTO t VALUES (1)";
            var constraint = await Assert.ThrowsAsync<SqliteException>(() => duplicate.ExecuteNonQueryAsync());
            Assert.False(TransientErrors.IsTransient(constraint), constraint.Message);
        }

        await using var writer = first.BeginTransaction();
        await using (var hold = first.CreateCommand())
        {
            hold.Transaction = writer;
            hold.CommandText = "INSERT INTO t VALUES (2)";
            await hold.ExecuteNonQueryAsync();
        }
        await using var second = new SqliteConnection($"Data Source={file};Default Timeout=1;Pooling=false");
        await second.OpenAsync();
        await using var blocked = second.CreateCommand();
        blocked.CommandText = "INSERT INTO t VALUES (3)";
        var busy = await Assert.ThrowsAsync<SqliteException>(() => blocked.ExecuteNonQueryAsync());
        Assert.True(TransientErrors.IsTransient(busy), busy.Message);
    }
}
