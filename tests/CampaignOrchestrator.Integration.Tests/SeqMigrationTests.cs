using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// An upgrade of a SQLite file an earlier release wrote (migration 0021): every event and log row is kept with its
/// number, the indexes are back, and a number taken once is never taken again, even after the newest rows were deleted.
/// </summary>
public sealed class SeqMigrationTests
{
    [Fact]
    public async Task Events_and_the_action_log_keep_their_rows_and_numbers_and_never_reuse_one_after_the_upgrade()
    {
        var connectionString = await TestDatabases.CreateAsync(StorageProvider.Sqlite);
        try
        {
            using (var old = new Database(StorageProvider.Sqlite, connectionString))
            {
                await new SchemaMigrator(old, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default, upTo: "0020_funnel_firsts");
                await using var connection = await old.OpenAsync(default);
                for (var i = 1; i <= 5; i++)
                {
                    await connection.ExecuteAsync("INSERT INTO events (event_id, profile_id, type, occurred_at, received_at, customer_id) " +
                        "VALUES (@id, 'c:old', 'page_viewed', '2026-11-01T10:00:00.0000000+00:00', '2026-11-01T10:00:00.0000000+00:00', 'old')", new { id = $"e{i}" });
                    await connection.ExecuteAsync("INSERT INTO action_log (action_id, campaign_id, step, profile_id, kind, outcome, at, action_seq) " +
                        "VALUES (@id, 'hello', 1, 'c:old', 'banner', 'delivered', '2026-11-01T10:00:00.0000000+00:00', @i)", new { id = $"a{i}", i });
                }
                // The counting job followed all five; then the newest rows go (as an erasure deletes them): before 0021 the
                // next insert took their numbers again, below the job's watermark.
                await connection.ExecuteAsync("UPDATE funnel_state SET watermark = 5, results_watermark = 5 WHERE id = 1");
                await connection.ExecuteAsync("DELETE FROM events WHERE seq >= 4; DELETE FROM action_log WHERE seq >= 4");
            }
            using var upgraded = await TestDatabases.OpenMigratedAsync(StorageProvider.Sqlite, connectionString);
            await using var c = await upgraded.OpenAsync(default);
            Assert.Equal([(1L, "e1"), (2L, "e2"), (3L, "e3")], (await c.QueryAsync<(long, string)>("SELECT seq, event_id FROM events ORDER BY seq")).ToList());
            Assert.Equal([(1L, "a1", 1L), (2L, "a2", 2L), (3L, "a3", 3L)],
                (await c.QueryAsync<(long, string, long)>("SELECT seq, action_id, action_seq FROM action_log ORDER BY seq")).ToList());
            var indexes = (await c.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('events', 'action_log') AND name LIKE 'ix_%'")).Order().ToList();
            Assert.Equal(["ix_action_log_action", "ix_action_log_campaign", "ix_events_profile_time"], indexes);

            // A number is not taken twice: after deleting the newest again, the next rows get numbers above every one ever taken.
            await c.ExecuteAsync("INSERT INTO events (event_id, profile_id, type, occurred_at, received_at) VALUES ('e6', 'c:new', 'page_viewed', 'x', 'x')");
            await c.ExecuteAsync("DELETE FROM events WHERE event_id = 'e6'");
            await c.ExecuteAsync("INSERT INTO events (event_id, profile_id, type, occurred_at, received_at) VALUES ('e7', 'c:new', 'page_viewed', 'x', 'x')");
            var e7 = await c.ExecuteScalarAsync<long>("SELECT seq FROM events WHERE event_id = 'e7'");
            Assert.Equal(7, e7);   // above the watermark (5) and above e6's number, deleted
            await c.ExecuteAsync("INSERT INTO action_log (action_id, campaign_id, step, profile_id, kind, outcome, at) VALUES ('a6', 'hello', 1, 'c:new', 'banner', 'delivered', 'x')");
            var a6 = await c.ExecuteScalarAsync<long>("SELECT seq FROM action_log WHERE action_id = 'a6'");
            Assert.Equal(6, a6);   // above the results watermark (5)
        }
        finally
        {
            await TestDatabases.DropAsync(StorageProvider.Sqlite, connectionString);
        }
    }
}
