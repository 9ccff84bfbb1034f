using System.Diagnostics;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Npgsql;
using Xunit.Abstractions;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// The fault suite: real processes under load while something fails, then the exact outcome checked: a RabbitMQ cluster
/// node killed under two workers on quorum queues (infra/services.sh cluster start), a slow database and SMTP server, a
/// slow consumer, a rules reload, a worker's clock ahead, a rolling upgrade. Every event stored once, every action
/// delivered once, every mail in the sink once, nothing in the error queue. These fail nothing the other tests use: they
/// run beside the in-process tests, one worker-process test at a time; <see cref="ServerOutageTests"/> stop the servers.
/// </summary>
[Trait(Lanes.Trait, Lanes.Fault)]
[Collection(WorkerProcessesCollection.Name)]
public sealed class FaultTests(ITestOutputHelper output)
{
    const int Customers = 1500;

    [Fact]
    public async Task A_cluster_node_killed_mid_load_loses_no_event_and_repeats_no_action_on_quorum_queues()
    {
        TestServers.RequireRabbitMqCluster();
        // The shop publishes to node 3, which stays up.
        await using var run = await ProcessRun.StartAsync("broker", """
            campaigns:
              - id: hello
                trigger: { event: page_viewed }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: hello }
            """, mail: false, rabbitPort: TestServers.ClusterPorts[2]);
        run.Environment["Bus__RabbitMq__QueueType"] = "quorum";
        for (var n = 0; n < 3; n++)
            run.Environment[$"Bus__RabbitMq__Hosts__{n}"] = $"127.0.0.1:{TestServers.ClusterPorts[n]}";
        try
        {
            var workers = (await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => run.StartWorkerAsync()))).Select(w => w.Process).ToList();
            Assert.Contains($"{run.Queue}\tquorum", await TestServers.Infra("cluster", "queues"));
            var clock = Stopwatch.StartNew();
            var at = DateTimeOffset.UtcNow.AddMinutes(-1);
            var fault = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                await TestServers.Infra("cluster", "kill", "1");
                output.WriteLine($"{clock.Elapsed}: node 1 killed");
                await Task.Delay(TimeSpan.FromSeconds(3));
                await TestServers.Infra("cluster", "start-node", "1");
                output.WriteLine($"{clock.Elapsed}: node 1 back");
            });
            for (var i = 0; i < Customers; i++)
            {
                await run.Shop.PublishAsync(Events.Json("page_viewed", $"view-{run.Id}-{i}", at, $"cust-{run.Id}-{i}"));
                if (i % 100 == 99)
                    await Task.Delay(200);   // about 7 s of load
            }
            output.WriteLine($"{clock.Elapsed}: published {Customers}");
            await fault;

            await using var connection = run.Connect();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            (long Events, long Actions, long Delivered) seen;
            do
            {
                await Task.Delay(500);
                seen = await connection.QuerySingleAsync<(long, long, long)>(
                    "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM scheduled_actions), (SELECT count(*) FROM scheduled_actions WHERE status = 'delivered')");
            }
            while (seen != (Customers, Customers, Customers) && DateTime.UtcNow < deadline);
            output.WriteLine($"{clock.Elapsed}: {seen}");
            Assert.Equal((Customers, Customers, Customers), seen);
            Assert.Equal(Customers, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM action_log WHERE outcome = 'delivered'"));
            Assert.Empty(await run.Shop.DrainAsync(run.Queue + "_error"));
            Assert.All(workers, w => Assert.False(w.HasExited, "a worker exited"));
        }
        finally
        {
            await TestServers.Infra("cluster", "start-node", "1");
        }
    }

    [Fact]
    public async Task A_rules_reload_in_the_middle_of_the_load_judges_every_event_by_exactly_one_version()
    {
        const int customers = 1200;
        await using var run = await ProcessRun.StartAsync("reload", rules: null, mail: false, db: Db.Sqlite);
        var rulesFolder = Directory.CreateDirectory(Path.Combine(run.Folder, "rules")).FullName;
        static string Rules(string version) => $$"""
            campaigns:
              - id: hello-{{version}}
                trigger: { event: page_viewed }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: {{version}} }
            """;
        File.WriteAllText(Path.Combine(rulesFolder, "rules.yaml"), Rules("a"));
        run.Environment["Rules__Path"] = rulesFolder;
        run.Environment["Rules__Watch"] = "true";
        await run.StartWorkerAsync();
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        for (var i = 0; i < customers; i++)
        {
            if (i == customers / 2)
            {
                // As an editor saves: a new file moved over the old one.
                var next = Path.Combine(run.Folder, "next.yaml");
                File.WriteAllText(next, Rules("b"));
                File.Move(next, Path.Combine(rulesFolder, "rules.yaml"), overwrite: true);
            }
            await run.Shop.PublishAsync(Events.Json("page_viewed", $"view-{run.Id}-{i}", at, $"cust-{run.Id}-{i}"));
            if (i % 100 == 99)
                await Task.Delay(300);
        }

        await using var connection = run.ConnectSqlite();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        List<(string ProfileId, string CampaignId, string RulesVersion, string Status, string? Reason)> actions;
        do
        {
            await Task.Delay(500);
            actions = (await connection.QueryAsync<(string, string, string, string, string?)>(
                "SELECT profile_id, campaign_id, rules_version, status, reason FROM scheduled_actions")).ToList();
        }
        while ((actions.Count < customers || actions.Any(a => a.Status is "pending" or "claimed")) && DateTime.UtcNow < deadline);
        var byCampaign = actions.GroupBy(a => a.CampaignId).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine(string.Join(", ", actions.GroupBy(a => (a.CampaignId, a.Status)).Select(c => $"{c.Key.CampaignId} {c.Key.Status}: {c.Count()}")));
        Assert.Equal(customers, actions.Count);
        Assert.Equal(customers, actions.Select(a => a.ProfileId).Distinct().Count());   // one action per customer: one version each
        // Delivered, or (a step of the old version not yet fired when it was replaced) cancelled as the rules say: the
        // campaign is gone from the version in force.
        var current = actions.First(a => a.CampaignId == "hello-b").RulesVersion;
        Assert.All(actions, a => Assert.True(a.Status == "delivered"
            || (a.CampaignId == "hello-a" && a.Status == "cancelled" && a.Reason == $"campaign removed in rules version {current}"),
            $"{a.ProfileId}: {a.CampaignId} {a.Status} ({a.Reason})"));
        Assert.All(actions.Where(a => a.CampaignId == "hello-b"), a => Assert.Equal("delivered", a.Status));
        Assert.Equal(["hello-a", "hello-b"], byCampaign.Keys.Order());                // both versions judged some
        Assert.Equal(2, actions.Select(a => a.RulesVersion).Distinct().Count());
        // Each campaign's actions carry its own rules version.
        Assert.All(actions.GroupBy(a => a.CampaignId), g => Assert.Single(g.Select(a => a.RulesVersion).Distinct()));
        Assert.Empty(await run.Shop.DrainAsync(run.Queue + "_error"));
    }

    [Fact]
    public async Task A_worker_whose_clock_runs_five_minutes_ahead_fires_nothing_early_and_the_other_fires_everything_once()
    {
        Assert.True(File.Exists("/usr/bin/faketime"), "faketime is needed (infra/services.sh tools installs it)");
        const int customers = 100;
        await using var run = await ProcessRun.StartAsync("skew", """
            campaigns:
              - id: later
                trigger: { event: page_viewed }
                steps:
                  - delay: 20s
                    action: { kind: banner, slot: home-hero, creative: later }
            """, mail: false);
        await run.StartWorkerAsync();
        var (ahead, _) = await run.StartWorkerAsync(wrapper: ["faketime", "-f", "+5m"]);
        var published = DateTimeOffset.UtcNow;
        for (var i = 0; i < customers; i++)
            await run.Shop.PublishAsync(Events.Json("page_viewed", $"view-{run.Id}-{i}", DateTimeOffset.UtcNow, $"cust-{run.Id}-{i}"));

        await using var connection = run.Connect();
        // Ten seconds in: the worker five minutes ahead would have fired every step by its clock; nothing may be delivered.
        await Task.Delay(TimeSpan.FromSeconds(10));
        var early = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM scheduled_actions WHERE status = 'delivered'");
        Assert.Equal(customers, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM scheduled_actions"));
        Assert.Equal(0, early);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long delivered;
        while ((delivered = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM scheduled_actions WHERE status = 'delivered'")) < customers
            && DateTime.UtcNow < deadline)
            await Task.Delay(500);
        output.WriteLine($"{DateTimeOffset.UtcNow - published}: {delivered} delivered");
        Assert.Equal(customers, delivered);
        Assert.Equal(customers, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM action_log WHERE outcome = 'delivered'"));
        // Fired when due by the database's clock: 20 s after the event, not before.
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM action_log l JOIN scheduled_actions a ON a.seq = l.action_seq WHERE l.outcome = 'delivered' AND l.at < a.triggered_at + interval '19 seconds'"));
        Assert.False(ahead.HasExited, "the worker whose clock is ahead exited");
    }

    internal const string ConfirmationRules = TestRules.OrderConfirmation;

    /// <summary>Publishes <paramref name="count"/> orders (each with a confirmation mail) in bursts of 50, <paramref name="pause"/> apart.</summary>
    internal static async Task PublishOrdersAsync(ProcessRun run, int count, TimeSpan pause)
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        for (var i = 0; i < count; i++)
        {
            await run.Shop.PublishAsync(Events.Json("order_placed", $"order-{run.Id}-{i}", at, $"buyer-{run.Id}-{i}",
                traits: new { email = $"buyer-{i}@example.com" }, properties: new { orderId = $"o-{i}", total = 10, currency = "EUR" }));
            if (i % 50 == 49)
                await Task.Delay(pause);
        }
    }

    /// <summary>Publishes <paramref name="count"/> page views of as many visitors (load without a campaign) on a connection of its own.</summary>
    internal static async Task PublishViewsAsync(ProcessRun run, int count)
    {
        await using var visitors = await RabbitPublisher.ConnectAsync();
        for (var i = 0; i < count; i++)
            await visitors.PublishAsync(Events.Json("page_viewed", $"view-{run.Id}-{i}", DateTimeOffset.UtcNow.AddMinutes(-1), $"visitor-{run.Id}-{i}"));
    }

    /// <summary>Waits until the run's database holds <paramref name="events"/> events and <paramref name="delivered"/> delivered actions
    /// (up to <paramref name="timeout"/>); returns what it holds then.</summary>
    internal static async Task<(long Events, long Delivered)> WaitStoredAsync(ProcessRun run, long events, long delivered, TimeSpan timeout)
    {
        await using var connection = run.Connect();
        var deadline = DateTime.UtcNow + timeout;
        (long Events, long Delivered) stored;
        while ((stored = await connection.QuerySingleAsync<(long, long)>(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM scheduled_actions WHERE status = 'delivered')")) is var (e, d) && (e < events || d < delivered) && DateTime.UtcNow < deadline)
            await Task.Delay(250);
        return stored;
    }

    [Fact]
    public async Task A_slow_database_and_a_slow_SMTP_server_keep_memory_bounded_leave_the_backlog_in_RabbitMQ_and_the_rate_recovers()
    {
        const int orders = 400, views = 6000;
        await using var run = await ProcessRun.StartAsync("slow", ConfirmationRules);
        // PostgreSQL and the SMTP sink behind proxies that hold every request: slow, not down.
        await using var database = new DelayProxy(new NpgsqlConnectionStringBuilder(run.ConnectionString).Port);
        await using var smtp = new DelayProxy(TestServers.SmtpPort);
        var (worker, _) = await run.StartWorkerAsync(new()
        {
            ["Storage__ConnectionString"] = new NpgsqlConnectionStringBuilder(run.ConnectionString) { Port = database.Port }.ConnectionString,
            ["Email__Smtp__Port"] = smtp.Port.ToString(),
        });
        await using var connection = run.Connect();
        async Task<long> Stored() => await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM events");
        var clock = Stopwatch.StartNew();
        long rssBefore = 0, rssMax = 0, storedSlow = 0;
        uint depthMax = 0;
        var slow = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            rssBefore = Rss(worker);
            var storedBefore = await Stored();
            (database.Delay, smtp.Delay) = (TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300));
            output.WriteLine($"{clock.Elapsed}: database +100 ms and SMTP +300 ms a request");
            for (var second = 0; second < 20; second++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                rssMax = Math.Max(rssMax, Rss(worker));
                depthMax = Math.Max(depthMax, (await run.Shop.Channel.QueueDeclarePassiveAsync(run.Queue)).MessageCount);
            }
            storedSlow = await Stored() - storedBefore;
            (database.Delay, smtp.Delay) = (TimeSpan.Zero, TimeSpan.Zero);
            output.WriteLine($"{clock.Elapsed}: fast again; {storedSlow} events stored in the 20 slow seconds; worker RSS {rssBefore / 1024} MB before, " +
                $"at most {rssMax / 1024} MB while slow; queue at most {depthMax} deep");
        });
        var browsing = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            await PublishViewsAsync(run, views);
        });
        await PublishOrdersAsync(run, orders, TimeSpan.FromMilliseconds(500));
        await slow;
        await browsing;
        var fastFrom = (Clock: clock.Elapsed, Stored: await Stored());

        var stored = await WaitStoredAsync(run, orders + views, orders, TimeSpan.FromSeconds(90));
        var fastRate = (stored.Events - fastFrom.Stored) / (clock.Elapsed - fastFrom.Clock).TotalSeconds;
        output.WriteLine($"{clock.Elapsed}: {stored.Events} events stored, {stored.Delivered} delivered; {storedSlow / 20.0:N0} events/s while slow, " +
            $"{fastRate:N0}/s after");
        var seen = await MailSink.WaitForAsync(run.Domain, orders, TimeSpan.FromSeconds(60));
        Assert.Equal((orders + views, orders), (stored.Events, stored.Delivered));
        Assert.True(depthMax > 1000, $"the backlog was not held in RabbitMQ (queue at most {depthMax} deep)");
        Assert.True(rssMax - rssBefore < 150 * 1024, $"the worker grew from {rssBefore / 1024} MB to {rssMax / 1024} MB while the store was slow");
        Assert.True(fastRate > 2 * storedSlow / 20.0, $"the rate did not recover: {fastRate:N0} events/s after against {storedSlow / 20.0:N0} while slow");
        Assert.Equal(orders, seen.Count);
        Assert.All(seen, s => Assert.Equal(1, s.Value));
        Assert.Empty(await run.Shop.DrainAsync(run.Queue + "_error"));
        Assert.False(worker.HasExited, "the worker exited");
    }

    [Fact]
    public async Task A_slow_consumer_holding_its_prefetch_delays_nothing_for_good_and_every_event_and_mail_is_taken_once()
    {
        const int orders = 600, views = 3000;
        await using var run = await ProcessRun.StartAsync("slow-consumer", ConfirmationRules);
        var (fast, fastHttp) = await run.StartWorkerAsync();
        var (slowWorker, slowHttp) = await run.StartWorkerAsync();
        var clock = Stopwatch.StartNew();
        // The slow worker runs a fifth of the time (stopped 200 ms of every 250) for the whole load: it takes its prefetch
        // (512 unacknowledged messages) and holds them, mid-transaction now and then, while the other works.
        using var stop = new CancellationTokenSource();
        var crawl = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                WorkerProcess.Signal(slowWorker, 19);
                await Task.Delay(200);
                WorkerProcess.Signal(slowWorker, 18);
                await Task.Delay(50);
            }
        });
        try
        {
            var browsing = Task.Run(() => PublishViewsAsync(run, views));
            await PublishOrdersAsync(run, orders, TimeSpan.FromMilliseconds(250));
            await browsing;
            var stored = await WaitStoredAsync(run, orders + views, orders, TimeSpan.FromSeconds(90));
            output.WriteLine($"{clock.Elapsed}: {stored.Events} events stored, {stored.Delivered} delivered, the slow worker still crawling");
            Assert.Equal((orders + views, orders), (stored.Events, stored.Delivered));
        }
        finally
        {
            stop.Cancel();
            await crawl;
            WorkerProcess.Signal(slowWorker, 18);
        }
        async Task<long> StoredBy(HttpClient http) =>
            (long)System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("/api/metrics"))!["journeyEvents"]!["stored"]!;
        var (byFast, bySlow) = (await StoredBy(fastHttp), await StoredBy(slowHttp));
        var seen = await MailSink.WaitForAsync(run.Domain, orders, TimeSpan.FromSeconds(60));
        output.WriteLine($"{clock.Elapsed}: stored by the fast worker {byFast}, by the slow one {bySlow}; {seen.Count} mails, {seen.Values.Sum() - seen.Count} repeats");
        Assert.Equal(orders + views, byFast + bySlow);
        Assert.True(byFast > bySlow, $"the slow worker took more ({bySlow}) than the fast one ({byFast})");
        Assert.Equal(orders, seen.Count);
        Assert.All(seen, s => Assert.Equal(1, s.Value));
        Assert.Empty(await run.Shop.DrainAsync(run.Queue + "_error"));
        Assert.False(fast.HasExited || slowWorker.HasExited, "a worker exited");
    }

    [Fact]
    public async Task A_rolling_restart_from_the_previous_release_to_this_one_mid_load_loses_nothing_repeats_nothing_and_corrupts_nothing()
    {
        var previous = TestServers.RequirePreviousWorker();
        const int customers = 300;
        // The scale-out scenario's order confirmation and cart reminder, and a banner.
        await using var run = await ProcessRun.StartAsync("upgrade", ScaleOutTests.Rules + "\n" + """
              - id: welcome-banner
                trigger: { event: page_viewed }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: welcome }
            """);
        run.Environment["Scheduling__ClaimLease"] = "00:00:05";
        run.Environment["Shutdown__Timeout"] = "00:00:10";
        // Two workers of the previous release are running; one at a time is replaced by this release's.
        var old = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => run.StartWorkerAsync(workerDll: previous)));
        var clock = Stopwatch.StartNew();
        var stops = new List<(TimeSpan Took, int ExitCode)>();
        HttpClient? http = null;
        var restart = Task.Run(async () =>
        {
            foreach (var (process, _) in old)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                (_, http) = await run.StartWorkerAsync();
                stops.Add(await WorkerProcess.TerminateAsync(process, TimeSpan.FromSeconds(30)));
                output.WriteLine($"{clock.Elapsed}: a worker of the previous release replaced ({stops[^1]})");
            }
        });
        for (var i = 0; i < customers; i++)
        {
            var at = DateTimeOffset.UtcNow;   // the reminders fall due 3 s on: many are claimed by one release and finished by the other
            var customer = $"upgrade-{run.Id}-{i}";
            var traits = new { email = $"upgrade-{i}@example.com", emailConsent = true };
            await run.Shop.PublishAsync(Events.Json("page_viewed", $"view-{run.Id}-{i}", at, customer, traits: traits));
            // Each event carries the address and consent: the three may be taken by different workers in any order.
            await run.Shop.PublishAsync(Events.Json("cart_abandoned", $"cart-{run.Id}-{i}", at.AddSeconds(1), customer, traits: traits,
                properties: new { cartId = $"cart-{i}", cartValue = 80 }));
            await run.Shop.PublishAsync(Events.Json("order_placed", $"order-{run.Id}-{i}", at.AddSeconds(2), customer, traits: traits,
                properties: new { orderId = $"o-{i}", total = 10, currency = "EUR" }));
            if (i % 10 == 9)
                await Task.Delay(800);   // 900 events over about 25 seconds, across both replacements
        }
        output.WriteLine($"{clock.Elapsed}: published {3 * customers}");
        await restart;

        // Every event once, every action once and delivered, every mail once; each customer whole through the new release's API.
        var stored = await WaitStoredAsync(run, 3 * customers, 3 * customers, TimeSpan.FromSeconds(90));
        await using var connection = run.Connect();
        var actions = (await connection.QueryAsync<(string ActionId, string Kind, string Status, string? Reason)>(
            "SELECT action_id, kind, status, reason FROM scheduled_actions")).ToList();
        output.WriteLine($"{clock.Elapsed}: {stored.Events} events, {actions.Count} actions: " +
            string.Join(", ", actions.GroupBy(a => (a.Kind, a.Status, a.Status == "delivered" ? "" : a.Reason)).Select(g => $"{g.Count()} {g.Key}")));
        Assert.Equal(3 * customers, stored.Events);
        Assert.Equal(3 * customers, actions.Count);
        Assert.All(actions, a => Assert.Equal("delivered", a.Status));
        Assert.Equal(3 * customers, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM action_log WHERE outcome = 'delivered'"));
        Assert.Equal(customers, await connection.ExecuteScalarAsync<long>("SELECT count(DISTINCT profile_id) FROM placements"));
        var seen = await MailSink.WaitForAsync(run.Domain, 2 * customers, TimeSpan.FromSeconds(60));
        Assert.Equal(actions.Where(a => a.Kind == "email").Select(a => a.ActionId).Order(StringComparer.Ordinal), seen.Keys.Order(StringComparer.Ordinal));
        Assert.All(seen, s => Assert.Equal(1, s.Value));
        Assert.Empty(await run.Shop.DrainAsync(run.Queue + "_error"));
        Assert.All(stops, s => Assert.Equal(0, s.ExitCode));
        foreach (var i in new[] { 0, customers / 2, customers - 1 })
        {
            var journey = System.Text.Json.Nodes.JsonNode.Parse(await http!.GetStringAsync($"/api/customers/upgrade-{run.Id}-{i}"))!;
            Assert.Equal((3, "purchase", 3), ((int)journey["eventCount"]!, (string)journey["phase"]!, journey["actions"]!.AsArray().Count));
        }
    }

    internal static long Rss(Process process) => WorkerProcess.Rss(process);

}

/// <summary>The tests that stop or kill shared servers (broker nodes, PostgreSQL) run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection
{
    public const string Name = "faults";
}
