using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>An upgrade keeps every suppression of an earlier release, by the address's hash only (migration 0014).</summary>
public sealed class SuppressionMigrationTests
{
    [Theory]
    [InlineData(StorageProvider.Sqlite)]
    [InlineData(StorageProvider.Postgres)]
    public async Task Suppressions_kept_by_address_are_kept_by_hash_after_the_upgrade_and_no_address_is_left(StorageProvider provider)
    {
        var connectionString = await TestDatabases.CreateAsync(provider);
        try
        {
            var at = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
            using (var old = new Database(provider, connectionString))
            {
                await new SchemaMigrator(old, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default, upTo: "0013_audit");
                await using var connection = await old.OpenAsync(default);
                await connection.ExecuteAsync("INSERT INTO email_suppressions (address, reason, at, detail) VALUES (@address, @reason, @at, @detail)", new[]
                {
                    new { address = "ida@example.com", reason = "unsubscribed", at, detail = (string?)"link in the mail of action a1" },
                    new { address = "bo@example.com", reason = "hard-bounce", at, detail = (string?)"550 5.1.1 <bo@example.com>: Recipient address rejected" },
                });
            }
            using var upgraded = await TestDatabases.OpenMigratedAsync(provider, connectionString);
            await using var c = await upgraded.OpenAsync(default);
            var rows = (await c.QueryAsync<(string Hash, string Reason, DateTimeOffset At, string? Detail)>(
                "SELECT address_sha256, reason, at, detail FROM email_suppressions ORDER BY reason")).ToList();
            Assert.Equal([(EmailHash.Of("bo@example.com"), "hard-bounce", at, "550 5.1.1 <<recipient>>: Recipient address rejected"),
                (EmailHash.Of("Ida@Example.com "), "unsubscribed", at, "link in the mail of action a1")], rows);
            var oldTable = provider == StorageProvider.Postgres
                ? "SELECT count(*) FROM information_schema.tables WHERE table_name = 'email_suppressions_0013'"
                : "SELECT count(*) FROM sqlite_master WHERE name = 'email_suppressions_0013'";
            Assert.Equal(0, await c.ExecuteScalarAsync<long>(oldTable));
        }
        finally
        {
            await TestDatabases.DropAsync(provider, connectionString);
        }
    }
}
