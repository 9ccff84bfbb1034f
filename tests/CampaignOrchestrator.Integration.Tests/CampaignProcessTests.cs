using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Scheduled actions across real worker processes: pending actions survive a SIGKILL and fire once
/// after the restart (late ones at once, recorded as late); two workers on one PostgreSQL database
/// share the firing and never fire an action twice.
/// </summary>
[Trait(Lanes.Trait, Lanes.Process)]
[Collection(WorkerProcessesCollection.Name)]
public sealed class CampaignProcessTests
{
    const string Rules = """
        campaigns:
          - id: at-once
            trigger: { event: page_viewed }
            steps:
              - action: { kind: banner, slot: home-hero, creative: hello }
          - id: later
            trigger: { event: page_viewed }
            steps:
              - delay: 6s
                action: { kind: banner, slot: home-hero, creative: again }
        """;

    [Fact]
    public async Task Pending_actions_survive_a_kill_and_each_fires_once_after_the_restart_late_ones_recorded_as_late()
    {
        const int customers = 2000;
        await using var run = await ProcessRun.StartAsync("actions-crash", Rules, mail: false, db: Db.Sqlite);
        run.Environment["Scheduling__LateAfter"] = "00:00:02";
        await run.DeclareQueueAsync();
        var at = DateTimeOffset.UtcNow;
        for (var i = 0; i < customers; i++)
            await run.Shop.PublishAsync(Events.Json("page_viewed", $"kill-{run.Queue}-{i}", at, $"cust-{i}"));

        var (worker, http) = await run.StartWorkerAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long delivered;
        while ((delivered = await DeliveredAsync(http)) < 100 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        await WorkerProcess.KillAsync(worker);
        Assert.InRange(delivered, 100, 2 * customers - 1); // killed in the middle of firing

        // Restart after every 'later' action fell due: they are late now.
        var wait = at.AddSeconds(9) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait);
        var restartedAt = DateTimeOffset.UtcNow;
        await run.StartWorkerAsync();

        await using var connection = run.ConnectSqlite();
        var (total, open) = await WaitUntilAllFiredAsync(connection, 2 * customers);
        Assert.Equal(2 * customers, total);   // every event started both campaigns, once
        Assert.Equal(0, open);                // and every action fired
        Assert.Equal(2 * customers, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM scheduled_actions WHERE status = 'delivered'"));
        Assert.Equal(2 * customers, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM action_log WHERE outcome = 'delivered'"));
        Assert.Equal(2 * customers, await connection.ExecuteScalarAsync<long>("SELECT count(DISTINCT action_id) FROM action_log WHERE outcome = 'delivered'"));

        var afterRestart = (await connection.QueryAsync<(string Reason, long LateMs)>(
            "SELECT coalesce(l.reason, ''), l.late_ms FROM action_log l JOIN scheduled_actions a ON a.seq = l.action_seq " +
            "WHERE a.campaign_id = 'later' AND l.outcome = 'delivered' AND l.at >= @from", new { from = restartedAt.UtcDateTime })).ToList();
        Assert.NotEmpty(afterRestart);
        Assert.All(afterRestart, d => Assert.StartsWith("late", d.Reason));
        Assert.All(afterRestart, d => Assert.True(d.LateMs >= 2000, $"late by {d.LateMs} ms"));
    }

    [Fact]
    public async Task Two_workers_on_one_PostgreSQL_database_fire_every_action_exactly_once()
    {
        const int customers = 2000;
        await using var run = await ProcessRun.StartAsync("actions-two", Rules, mail: false);
        run.Environment["Scheduling__BatchSize"] = "100";
        var (_, httpA) = await run.StartWorkerAsync();
        var (_, httpB) = await run.StartWorkerAsync();
        var at = DateTimeOffset.UtcNow;
        for (var i = 0; i < customers; i++)
            await run.Shop.PublishAsync(Events.Json("page_viewed", $"two-{run.Queue}-{i}", at, $"cust-{i}"));

        await using var connection = run.Connect();
        var (total, open) = await WaitUntilAllFiredAsync(connection, 2 * customers);
        Assert.Equal(2 * customers, total);
        Assert.Equal(0, open);
        Assert.Equal(2 * customers, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM action_log WHERE outcome = 'delivered'"));
        Assert.Equal(2 * customers, await connection.ExecuteScalarAsync<long>("SELECT count(DISTINCT action_id) FROM action_log WHERE outcome = 'delivered'"));
        // What each worker's channel took adds up to the actions: none was handed to a channel twice.
        var (deliveredA, deliveredB) = (await DeliveredAsync(httpA), await DeliveredAsync(httpB));
        Assert.Equal(2 * customers, deliveredA + deliveredB);
    }

    [Fact]
    public async Task Two_workers_on_one_PostgreSQL_database_send_every_email_exactly_once()
    {
        const int customers = 300;
        await using var run = await ProcessRun.StartAsync("mail-two", TestRules.OrderConfirmation);
        run.Environment["Scheduling__BatchSize"] = "20";
        await run.StartWorkerAsync();
        await run.StartWorkerAsync();
        var at = DateTimeOffset.UtcNow;
        for (var i = 0; i < customers; i++)
            await run.Shop.PublishAsync(Events.Json("order_placed", $"mail-two-{run.Queue}-{i}", at, $"buyer-{run.Queue}-{i}",
                traits: new { email = $"buyer-{i}@example.com" }, properties: new { orderId = $"o-{i}", total = 10, currency = "EUR" }));

        await using var connection = run.Connect();
        var (total, open) = await WaitUntilAllFiredAsync(connection, customers);
        Assert.Equal((customers, 0L), (total, open));
        var ids = (await connection.QueryAsync<string>("SELECT action_id FROM scheduled_actions WHERE status = 'delivered'")).ToHashSet();
        Assert.Equal(customers, ids.Count);
        // Every mail in the sink once: the Message-IDs (<actionId@domain>) of the run's mails in its Maildir.
        var seen = await MailSink.WaitForAsync(run.Domain, customers, TimeSpan.FromSeconds(10));
        Assert.Equal(ids.Order(), seen.Keys.Order());
        Assert.All(seen, s => Assert.Equal(1, s.Value));
    }

    /// <summary>Waits up to 90 s until <paramref name="expected"/> actions exist and none is pending or claimed; returns what it saw last.</summary>
    static async Task<(long Total, long Open)> WaitUntilAllFiredAsync(System.Data.Common.DbConnection connection, long expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        long total = 0, open = 0;
        while (DateTime.UtcNow < deadline)
        {
            total = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM scheduled_actions");
            open = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM scheduled_actions WHERE status IN ('pending', 'claimed')");
            if (total == expected && open == 0)
                break;
            await Task.Delay(200);
        }
        return (total, open);
    }

    static async Task<long> DeliveredAsync(HttpClient http)
    {
        try
        {
            var metrics = await http.GetFromJsonAsync<JsonObject>("/api/metrics");
            return (long)metrics!["actions"]!["delivered"]!;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }
}
