using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Npgsql;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// What the worker adds to an operator's PostgreSQL connection string, seen from the server: UTC, prepared
/// statements planned for their parameters (no generic plans), and nothing of the operator's own options lost.
/// </summary>
public sealed class PostgresConnectionTests
{
    [Fact]
    public async Task The_session_gets_utc_and_custom_plans_and_keeps_the_operators_options()
    {
        var connectionString = await TestServers.CreatePostgresDatabaseAsync();
        try
        {
            var given = new NpgsqlConnectionStringBuilder(connectionString) { Options = "-c statement_timeout=7s" }.ConnectionString;
            using var database = new Database(StorageProvider.Postgres, given);
            await using var connection = await database.OpenAsync(default);
            Assert.Equal("UTC", await connection.ExecuteScalarAsync<string>("SHOW TimeZone"));
            Assert.Equal("force_custom_plan", await connection.ExecuteScalarAsync<string>("SHOW plan_cache_mode"));
            Assert.Equal("7s", await connection.ExecuteScalarAsync<string>("SHOW statement_timeout"));
        }
        finally
        {
            await TestServers.DropPostgresDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task An_operator_who_sets_automatic_preparation_or_the_plan_mode_keeps_the_choice()
    {
        var connectionString = await TestServers.CreatePostgresDatabaseAsync();
        try
        {
            var ownMode = new NpgsqlConnectionStringBuilder(connectionString) { Options = "-c plan_cache_mode=auto" }.ConnectionString;
            using (var database = new Database(StorageProvider.Postgres, ownMode))
            await using (var connection = await database.OpenAsync(default))
                Assert.Equal("auto", await connection.ExecuteScalarAsync<string>("SHOW plan_cache_mode"));

            var noPreparation = new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 0 }.ConnectionString;
            Assert.Equal(0, new NpgsqlConnectionStringBuilder(PostgresDialect.Normalize(noPreparation)).MaxAutoPrepare);
            using (var database = new Database(StorageProvider.Postgres, noPreparation))
            await using (var connection = await database.OpenAsync(default))
                Assert.Equal("auto", await connection.ExecuteScalarAsync<string>("SHOW plan_cache_mode"));
        }
        finally
        {
            await TestServers.DropPostgresDatabaseAsync(connectionString);
        }
    }
}
