using System.Diagnostics;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Npgsql;
using Xunit.Abstractions;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// The servers every test uses stopped under load: PostgreSQL for 20 s, the SMTP sink (with a webhook answering 500),
/// the whole broker restarted. Every event stored once, every action delivered once, every mail in the sink once. They
/// run alone, after the tests that run side by side.
/// </summary>
[Trait(Lanes.Trait, Lanes.Fault)]
[Collection(FaultCollection.Name)]
public sealed class ServerOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PostgreSQL_stopped_for_20_seconds_mid_load_loses_no_event_sends_every_mail_once_and_leaves_the_backlog_in_RabbitMQ()
    {
        const int orders = 400, views = 4000;
        long rssBefore = 0, rssMax = 0;
        uint depthMax = 0;
        await using var run = await ProcessRun.StartAsync("pg-outage", FaultTests.ConfirmationRules);
        var (worker, _) = await run.StartWorkerAsync();
        var restarted = false;
        try
        {
            var clock = Stopwatch.StartNew();
            var fault = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                await TestServers.Infra("stop", "postgres");
                output.WriteLine($"{clock.Elapsed}: PostgreSQL stopped");
                // Back-pressure: while the store is away the backlog waits in RabbitMQ, not in the worker's memory.
                rssBefore = FaultTests.Rss(worker);
                for (var second = 0; second < 20; second++)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1));
                    rssMax = Math.Max(rssMax, FaultTests.Rss(worker));
                    depthMax = Math.Max(depthMax, (await run.Shop.Channel.QueueDeclarePassiveAsync(run.Queue)).MessageCount);
                }
                await TestServers.Infra("start", "postgres");
                restarted = true;
                output.WriteLine($"{clock.Elapsed}: PostgreSQL back; worker RSS {rssBefore / 1024} MB before, at most {rssMax / 1024} MB during; queue at most {depthMax} deep");
            });
            // Browsing from many visitors during the outage: no campaign, only load.
            var browsing = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(4));
                await FaultTests.PublishViewsAsync(run, views);
            });
            await FaultTests.PublishOrdersAsync(run, orders, TimeSpan.FromMilliseconds(500));   // about 4 s of load, half of it into the outage
            await fault;
            await browsing;

            var seen = await MailSink.WaitForAsync(run.Domain, orders, TimeSpan.FromSeconds(120));
            output.WriteLine($"{clock.Elapsed}: {seen.Count} mails, {seen.Values.Sum() - seen.Count} repeats");
            var stored = await FaultTests.WaitStoredAsync(run, orders + views, orders, TimeSpan.FromSeconds(60));
            Assert.Equal((orders + views, orders), (stored.Events, stored.Delivered));
            Assert.True(depthMax > views / 2, $"the backlog was not held in RabbitMQ (queue at most {depthMax} deep)");
            Assert.True(rssMax - rssBefore < 150 * 1024, $"the worker grew from {rssBefore / 1024} MB to {rssMax / 1024} MB while the store was away");
            Assert.Equal(orders, seen.Count);
            Assert.All(seen, s => Assert.Equal(1, s.Value));
            Assert.Empty(await run.Shop.DrainAsync(run.Queue + "_error"));
            Assert.False(worker.HasExited, "the worker exited");
        }
        finally
        {
            if (!restarted)
                await TestServers.Infra("start", "postgres");
        }
    }

    [Fact]
    public async Task SMTP_down_and_a_webhook_answering_500_for_20_seconds_lose_nothing_and_deliver_each_once_when_they_are_back()
    {
        const int orders = 200;
        // The webhook receiver: 500 while failing, 200 after; every request recorded with its Idempotency-Key.
        var failing = true;
        var answered = new System.Collections.Concurrent.ConcurrentQueue<(string Key, int Status)>();
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        receiver.MapPost("/hooks/crm", (Microsoft.AspNetCore.Http.HttpRequest request) =>
        {
            var status = Volatile.Read(ref failing) ? 500 : 200;
            answered.Enqueue((request.Headers["Idempotency-Key"].FirstOrDefault() ?? "", status));
            return Microsoft.AspNetCore.Http.Results.StatusCode(status);
        });
        await receiver.StartAsync();
        var url = receiver.Urls.First() + "/hooks/crm";
        await using var run = await ProcessRun.StartAsync("outage", TestRules.OrderConfirmation + "\n" + $$"""
              - id: crm-sync
                trigger: { event: order_placed }
                steps:
                  - action: { kind: webhook, url: "{{url}}", secret: crm }
            """, db: Db.Sqlite);
        foreach (var (key, value) in new Dictionary<string, string>
                 {
                     ["Webhooks__Secrets__crm"] = "crm-secret-" + run.Id,
                     ["Webhooks__SecretHosts__crm__0"] = "127.0.0.1",
                     ["Webhooks__AllowPrivateNetworks"] = "true",   // the receiver is on this machine
                     // Retried every 5 s instead of every minute (the defaults): four retries of each inside the outage, not one.
                     ["Scheduling__RetryAfter"] = "00:00:05",
                     ["Email__Smtp__RetryAfter"] = "00:00:05",
                     ["Email__Smtp__PauseOnOutage"] = "00:00:05",
                 })
            run.Environment[key] = value;
        var smtpBack = false;
        try
        {
            await run.StartWorkerAsync();
            var clock = Stopwatch.StartNew();
            var at = DateTimeOffset.UtcNow.AddMinutes(-1);
            var fault = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                await TestServers.Infra("stop", "smtp");
                output.WriteLine($"{clock.Elapsed}: SMTP down, webhook failing");
                await Task.Delay(TimeSpan.FromSeconds(20));
                await TestServers.Infra("start", "smtp");
                smtpBack = true;
                Volatile.Write(ref failing, false);
                output.WriteLine($"{clock.Elapsed}: both back");
            });
            for (var i = 0; i < orders; i++)
            {
                await run.Shop.PublishAsync(Events.Json("order_placed", $"order-{run.Id}-{i}", at, $"buyer-{run.Id}-{i}",
                    traits: new { email = $"buyer-{i}@example.com" }, properties: new { orderId = $"o-{i}", total = 10, currency = "EUR" }));
                if (i % 25 == 24)
                    await Task.Delay(500);   // about 4 s of load, half of it into the outage
            }
            await fault;

            var seen = await MailSink.WaitForAsync(run.Domain, orders, TimeSpan.FromSeconds(150));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (answered.Where(a => a.Status == 200).Select(a => a.Key).Distinct().Count() < orders && DateTime.UtcNow < deadline)
                await Task.Delay(500);
            var accepted = answered.Where(a => a.Status == 200).GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.Count());
            output.WriteLine($"{clock.Elapsed}: {seen.Count} mails ({seen.Values.Sum() - seen.Count} repeats), {accepted.Count} webhooks accepted " +
                $"({answered.Count(a => a.Status == 500)} answered 500)");
            Assert.Equal(orders, seen.Count);
            Assert.All(seen, s => Assert.Equal(1, s.Value));
            Assert.Equal(orders, accepted.Count);
            Assert.All(accepted, a => Assert.Equal(1, a.Value));            // each accepted once, by its Idempotency-Key
            Assert.True(answered.Any(a => a.Status == 500), "the webhook never saw the outage");
            await using var connection = run.ConnectSqlite();
            Assert.Equal(2L * orders, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM scheduled_actions WHERE status = 'delivered'"));
            Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM scheduled_actions WHERE status = 'failed'"));
            Assert.Empty(await run.Shop.DrainAsync(run.Queue + "_error"));
        }
        finally
        {
            if (!smtpBack)
                await TestServers.Infra("start", "smtp");
        }
    }

    [Fact]
    public async Task The_whole_broker_restarted_mid_load_loses_no_confirmed_event_and_the_worker_goes_on()
    {
        TestServers.RequireRabbitMq();
        const int customers = 1000;
        var run = Guid.NewGuid().ToString("N")[..10];
        var folder = Directory.CreateTempSubdirectory("co-broker-restart-").FullName;
        var database = Path.Combine(folder, "journeys.db");
        var queue = "co-test-" + run;
        File.WriteAllText(Path.Combine(folder, "rules.yaml"), """
            campaigns:
              - id: hello
                trigger: { event: page_viewed }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: hello }
            """);
        var env = new Dictionary<string, string>
        {
            ["Bus__QueueName"] = queue,
            ["Storage__Provider"] = "Sqlite",
            ["Storage__ConnectionString"] = $"Data Source={database}",
            ["Rules__Path"] = Path.Combine(folder, "rules.yaml"),
        };
        Process? worker = null;
        RabbitPublisher? shop = null;
        var restarted = false;
        try
        {
            (worker, _) = await WorkerProcess.StartAsync(env);
            shop = await RabbitPublisher.ConnectAsync();
            var clock = Stopwatch.StartNew();
            var fault = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                await TestServers.Infra("stop", "rabbitmq");
                output.WriteLine($"{clock.Elapsed}: broker stopped");
                await Task.Delay(TimeSpan.FromSeconds(5));
                await TestServers.Infra("start", "rabbitmq");
                restarted = true;
                output.WriteLine($"{clock.Elapsed}: broker back");
            });
            var at = DateTimeOffset.UtcNow.AddMinutes(-1);
            var retries = 0;
            for (var i = 0; i < customers; i++)
            {
                // A shop publishes with confirms and publishes again what was not confirmed (the eventId makes a repeat harmless).
                while (true)
                {
                    try
                    {
                        await shop!.PublishAsync(Events.Json("page_viewed", $"view-{run}-{i}", at, $"cust-{run}-{i}"));
                        break;
                    }
                    catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(90))
                    {
                        retries++;
                        try { if (shop is not null) await shop.DisposeAsync(); } catch (Exception) { }
                        shop = null;
                        await Task.Delay(500);
                        try { shop = await RabbitPublisher.ConnectAsync(); } catch (Exception) { }
                    }
                }
                if (i % 100 == 99)
                    await Task.Delay(300);
            }
            output.WriteLine($"{clock.Elapsed}: published {customers} ({retries} publish attempts failed while the broker was away)");
            await fault;

            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Mode=ReadOnly");
            var deadline = DateTime.UtcNow.AddSeconds(90);
            (long Events, long Delivered) seen;
            do
            {
                await Task.Delay(500);
                seen = await connection.QuerySingleAsync<(long, long)>(
                    "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM scheduled_actions WHERE status = 'delivered')");
            }
            while (seen != (customers, customers) && DateTime.UtcNow < deadline);
            output.WriteLine($"{clock.Elapsed}: {seen}");
            Assert.Equal((customers, customers), seen);
            Assert.Equal(customers, await connection.ExecuteScalarAsync<long>("SELECT count(DISTINCT event_id) FROM events"));
            Assert.True(retries > 0, "the shop never saw the broker go");
            Assert.Empty(await shop!.DrainAsync(queue + "_error"));
            Assert.False(worker.HasExited, "the worker exited");
        }
        finally
        {
            await WorkerProcess.KillAsync(worker);
            if (!restarted)
                await TestServers.Infra("start", "rabbitmq");
            shop ??= await RabbitPublisher.ConnectAsync();
            await shop.DeleteQueuesAsync(queue);
            await shop.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }
}
