using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Nothing is acknowledged before it is committed: a worker killed with SIGKILL in the middle of a
/// load loses no event and counts none twice once it is started again.
/// </summary>
[Trait(Lanes.Trait, Lanes.Process)]
[Collection(WorkerProcessesCollection.Name)]
public sealed class CrashTests
{
    [Fact]
    public async Task A_worker_killed_mid_load_loses_nothing_and_counts_nothing_twice()
    {
        await using var run = await ProcessRun.StartAsync("crash", rules: null, mail: false, db: Db.Sqlite);
        // A backlog waits in the worker's queue, so the worker is surely busy when it is killed.
        const int events = 4000;
        await run.DeclareQueueAsync();
        for (var i = 0; i < events; i++)
            await run.Shop.PublishAsync(Events.Json(i % 7 == 0 ? "order_placed" : "page_viewed", $"crash-{run.Queue}-{i}", Events.T0.AddSeconds(i), $"cust-{i % 100}"));
        var (worker, http) = await run.StartWorkerAsync();

        // Kill it hard while it is busy.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long atKill;
        while ((atKill = await StoredAsync(http)) < 300 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        await WorkerProcess.KillAsync(worker);
        Assert.InRange(atKill, 300, events - 1); // it really was in the middle

        await run.StartWorkerAsync();
        long count = 0, counted = 0, orders = 0;
        deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            await using var connection = run.ConnectSqlite();
            await connection.OpenAsync();
            count = await Scalar(connection, "SELECT COUNT(*) FROM events");
            counted = await Scalar(connection, "SELECT COALESCE(SUM(event_count), 0) FROM profiles");
            orders = await Scalar(connection, "SELECT COALESCE(SUM(order_count), 0) FROM profiles");
            if (count == events && counted == events)
                break;
            await Task.Delay(200);
        }
        Assert.Equal(events, count);                                  // nothing lost
        Assert.Equal(events, counted);                                // nothing counted twice
        Assert.Equal(Enumerable.Range(0, events).Count(i => i % 7 == 0), orders);
    }

    static async Task<long> Scalar(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    static async Task<long> StoredAsync(HttpClient http)
    {
        try
        {
            var metrics = await http.GetFromJsonAsync<JsonObject>("/api/metrics");
            return (long)metrics!["journeyEvents"]!["stored"]!;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }
}
