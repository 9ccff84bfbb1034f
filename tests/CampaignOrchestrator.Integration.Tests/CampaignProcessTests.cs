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

    static string WriteRules(string folder)
    {
        var path = Path.Combine(folder, "rules.yaml");
        File.WriteAllText(path, Rules);
        return path;
    }

    [Fact]
    public async Task Pending_actions_survive_a_kill_and_each_fires_once_after_the_restart_late_ones_recorded_as_late()
    {
        TestServers.RequireRabbitMq();
        var folder = Directory.CreateTempSubdirectory("co-actions-crash-").FullName;
        var database = Path.Combine(folder, "journeys.db");
        var queue = "co-test-" + Guid.NewGuid().ToString("N")[..10];
        await using var shop = await RabbitPublisher.ConnectAsync();
        Process? worker = null;
        const int customers = 2000;
        var env = new Dictionary<string, string>
        {
            ["Bus__QueueName"] = queue,
            ["Storage__Provider"] = "Sqlite",
            ["Storage__ConnectionString"] = $"Data Source={database}",
            ["Rules__Path"] = WriteRules(folder),
            ["Scheduling__LateAfter"] = "00:00:02",
        };
        try
        {
            await shop.Channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
            await shop.Channel.QueueBindAsync(queue, Contracts.Inbound.JourneyEventsTopology.ExchangeName, "#");
            var at = DateTimeOffset.UtcNow;
            for (var i = 0; i < customers; i++)
                await shop.PublishAsync(Events.Json("page_viewed", $"kill-{queue}-{i}", at, $"cust-{i}"));

            HttpClient http;
            (worker, http) = await WorkerProcess.StartAsync(env);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            long delivered;
            while ((delivered = await DeliveredAsync(http)) < 100 && DateTime.UtcNow < deadline)
                await Task.Delay(10);
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
            worker.Dispose();
            Assert.InRange(delivered, 100, 2 * customers - 1); // killed in the middle of firing

            // Restart after every 'later' action fell due: they are late now.
            var wait = at.AddSeconds(9) - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait);
            var restartedAt = DateTimeOffset.UtcNow;
            (worker, _) = await WorkerProcess.StartAsync(env);

            await using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly");
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
        finally
        {
            await WorkerProcess.KillAsync(worker);
            await shop.DeleteQueuesAsync(queue);
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Two_workers_on_one_PostgreSQL_database_fire_every_action_exactly_once()
    {
        TestServers.RequireRabbitMq();
        var folder = Directory.CreateTempSubdirectory("co-actions-two-").FullName;
        var connectionString = await TestServers.CreatePostgresDatabaseAsync();
        var queue = "co-test-" + Guid.NewGuid().ToString("N")[..10];
        await using var shop = await RabbitPublisher.ConnectAsync();
        Process? a = null, b = null;
        const int customers = 2000;
        var env = new Dictionary<string, string>
        {
            ["Bus__QueueName"] = queue,
            ["Storage__Provider"] = "Postgres",
            ["Storage__ConnectionString"] = connectionString,
            ["Rules__Path"] = WriteRules(folder),
            ["Scheduling__BatchSize"] = "100",
        };
        try
        {
            HttpClient httpA, httpB;
            (a, httpA) = await WorkerProcess.StartAsync(env);
            (b, httpB) = await WorkerProcess.StartAsync(env);
            var at = DateTimeOffset.UtcNow;
            for (var i = 0; i < customers; i++)
                await shop.PublishAsync(Events.Json("page_viewed", $"two-{queue}-{i}", at, $"cust-{i}"));

            await using var connection = new NpgsqlConnection(connectionString);
            var (total, open) = await WaitUntilAllFiredAsync(connection, 2 * customers);
            Assert.Equal(2 * customers, total);
            Assert.Equal(0, open);
            Assert.Equal(2 * customers, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM action_log WHERE outcome = 'delivered'"));
            Assert.Equal(2 * customers, await connection.ExecuteScalarAsync<long>("SELECT count(DISTINCT action_id) FROM action_log WHERE outcome = 'delivered'"));
            // What each worker's channel took adds up to the actions: none was handed to a channel twice.
            var (deliveredA, deliveredB) = (await DeliveredAsync(httpA), await DeliveredAsync(httpB));
            Assert.Equal(2 * customers, deliveredA + deliveredB);
        }
        finally
        {
            await CleanUpAsync(shop, queue, connectionString, folder, a, b);
        }
    }

    [Fact]
    public async Task Two_workers_on_one_PostgreSQL_database_send_every_email_exactly_once()
    {
        TestServers.RequireRabbitMq();
        TestServers.RequireSmtp();
        var folder = Directory.CreateTempSubdirectory("co-mail-two-").FullName;
        var connectionString = await TestServers.CreatePostgresDatabaseAsync();
        var queue = "co-test-" + Guid.NewGuid().ToString("N")[..10];
        await using var shop = await RabbitPublisher.ConnectAsync();
        Process? a = null, b = null;
        const int customers = 300;
        var rules = Path.Combine(folder, "mail.yaml");
        File.WriteAllText(rules, """
            campaigns:
              - id: order-confirmation
                trigger: { event: order_placed }
                transactional: true
                steps:
                  - action: { kind: email, template: order-confirmation }
            """);
        var env = new Dictionary<string, string>
        {
            ["Bus__QueueName"] = queue,
            ["Storage__Provider"] = "Postgres",
            ["Storage__ConnectionString"] = connectionString,
            ["Rules__Path"] = rules,
            ["Scheduling__BatchSize"] = "20",
            ["Email__From"] = "Shop <two-workers@shop.example>",
            ["Email__Smtp__Port"] = TestServers.SmtpPort.ToString(),
        };
        try
        {
            (a, _) = await WorkerProcess.StartAsync(env);
            (b, _) = await WorkerProcess.StartAsync(env);
            var at = DateTimeOffset.UtcNow;
            for (var i = 0; i < customers; i++)
                await shop.PublishAsync(Events.Json("order_placed", $"mail-two-{queue}-{i}", at, $"buyer-{queue}-{i}",
                    traits: new { email = $"buyer-{i}@example.com" }, properties: new { orderId = $"o-{i}", total = 10, currency = "EUR" }));

            await using var connection = new NpgsqlConnection(connectionString);
            var (total, open) = await WaitUntilAllFiredAsync(connection, customers);
            Assert.Equal((customers, 0L), (total, open));
            var ids = (await connection.QueryAsync<string>("SELECT action_id FROM scheduled_actions WHERE status = 'delivered'")).ToHashSet();
            Assert.Equal(customers, ids.Count);
            // Every mail in the sink once: count the Message-IDs of these actions in its Maildir.
            var folderNew = Path.Combine(TestServers.Maildir, "new");
            var seen = new Dictionary<string, int>();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            do
            {
                seen.Clear();
                foreach (var file in Directory.GetFiles(folderNew))
                {
                    var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith("Message-Id:", StringComparison.OrdinalIgnoreCase));
                    var id = line?[11..].Trim().Trim('<', '>');
                    if (id is not null && id.EndsWith("@shop.example", StringComparison.Ordinal) && ids.Contains(id[..id.IndexOf('@')]))
                        seen[id] = seen.GetValueOrDefault(id) + 1;
                }
                if (seen.Count == customers)
                    break;
                await Task.Delay(200);
            }
            while (DateTime.UtcNow < deadline);
            Assert.Equal(customers, seen.Count);
            Assert.All(seen, s => Assert.Equal(1, s.Value));
        }
        finally
        {
            await CleanUpAsync(shop, queue, connectionString, folder, a, b);
        }
    }

    /// <summary>Stops the workers and removes what a PostgreSQL test made: their queue, the database, the rules folder.</summary>
    static async Task CleanUpAsync(RabbitPublisher shop, string queue, string connectionString, string folder, params Process?[] workers)
    {
        foreach (var worker in workers)
            await WorkerProcess.KillAsync(worker);
        await shop.DeleteQueuesAsync(queue);
        NpgsqlConnection.ClearAllPools();
        await TestServers.DropPostgresDatabaseAsync(connectionString);
        Directory.Delete(folder, recursive: true);
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
