using System.Diagnostics;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Npgsql;
using Xunit.Abstractions;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Three worker processes on one PostgreSQL database and one queue, with workers stopped and killed in the middle of the
/// load: every expected email reaches the SMTP sink, a worker stopped with SIGTERM repeats nothing, and a worker killed
/// with SIGKILL repeats at most the sends it had not yet recorded (decision 0006), each with the same Message-ID.
/// </summary>
[Trait(Lanes.Trait, Lanes.Process)]
[Collection(WorkerProcessesCollection.Name)]
public sealed class ScaleOutTests(ITestOutputHelper output)
{
    const int Orders = 300, Carts = 300, DeliveryConcurrency = 8;

    /// <summary>The most a killed worker repeats: its window of sends started and not yet recorded (decision 0006).</summary>
    const int KillBound = 4 * DeliveryConcurrency;

    internal const string Rules = TestRules.OrderConfirmation + "\n" + """
          - id: cart-reminder
            trigger: { event: cart_abandoned }
            steps:
              - delay: 3s
                action: { kind: email, template: cart-reminder }
        """;

    [Fact]
    public async Task A_worker_stopped_with_SIGTERM_mid_load_finishes_or_hands_back_what_it_holds_and_nothing_is_sent_twice()
    {
        var (repeats, stops) = await RunAsync(kill: false);
        Assert.Empty(repeats);
        var (took, exitCode) = Assert.Single(stops);
        Assert.Equal(0, exitCode);
        Assert.True(took < TimeSpan.FromSeconds(15), $"the stopped worker took {took} to exit (Shutdown:Timeout 10 s)");
    }

    [Fact]
    public async Task Three_workers_with_one_killed_and_one_stopped_mid_load_send_every_mail_and_repeat_at_most_the_killed_ones_unrecorded_sends()
    {
        var (repeats, stops) = await RunAsync(kill: true);
        Assert.True(repeats.Values.Sum() - repeats.Count <= KillBound,
            $"{repeats.Values.Sum() - repeats.Count} repeated sends, more than the {KillBound} a killed worker can have unrecorded");
        Assert.Equal(0, Assert.Single(stops).ExitCode);
    }

    [Fact]
    public async Task Two_workers_consuming_one_customers_events_at_the_same_moment_keep_one_consistent_journey()
    {
        const int customers = 150;
        await using var run = await ProcessRun.StartAsync("consistency", """
            campaigns:
              - id: order-thanks
                trigger: { event: order_placed }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: thanks }
            """, mail: false);
        run.Environment["Bus__RabbitMq__PrefetchCount"] = "8";   // small, so each worker takes part of every customer's burst
        var started = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => run.StartWorkerAsync()));
        var http = started[0].Http;
        var t = DateTimeOffset.UtcNow.AddHours(-1);
        string C(int i) => $"c-{run.Id}-{i}";
        string D(int i) => $"d-{run.Id}-{i}";
        // Per customer, four events back to back: browsing on a device, the login that merges it, a product view and the
        // order (published last but one: the view, earlier by occurredAt, must not move the phase back).
        foreach (var i in Enumerable.Range(0, customers))
        {
            await run.Shop.PublishAsync(Events.Json("page_viewed", $"{run.Id}-{i}-1", t, anonymousId: D(i), traits: new { color = "red" }));
            await run.Shop.PublishAsync(Events.Json("identified", $"{run.Id}-{i}-2", t.AddMinutes(1), C(i), D(i), traits: new { size = "M" }));
            await run.Shop.PublishAsync(Events.Json("order_placed", $"{run.Id}-{i}-4", t.AddMinutes(3), C(i),
                properties: new { orderId = $"o-{i}", total = 25, currency = "EUR" }));
            await run.Shop.PublishAsync(Events.Json("product_viewed", $"{run.Id}-{i}-3", t.AddMinutes(2), C(i), traits: new { country = "NL" }));
        }
        var wrong = new List<string>();
        foreach (var i in Enumerable.Range(0, customers))
        {
            var journey = await WaitForAsync(http, C(i), j => (int?)j["eventCount"] == 4 && j["actions"]?.AsArray().Count == 1
                && (string?)j["actions"]![0]!["status"] == "delivered");
            var traits = journey?["traits"];
            var problem = journey is null ? "not complete in time"
                : (string?)journey["phase"] != "purchase" ? $"phase {(string?)journey["phase"]}"
                : (int?)journey["orderCount"] != 1 ? $"orderCount {(int?)journey["orderCount"]}"
                : (string?)traits?["color"] != "red" || (string?)traits?["size"] != "M" || (string?)traits?["country"] != "NL" ? $"traits {traits?.ToJsonString()}"
                : journey["anonymousIds"]?.AsArray().Select(a => (string?)a).Contains(D(i)) != true ? "device not merged"
                : null;
            if (problem is not null)
                wrong.Add($"{C(i)}: {problem}");
        }
        Assert.Empty(wrong);
        // The device reads as the customer; nothing was scheduled twice.
        var device = (await WaitForAsync(http, D(0), j => true))!;
        Assert.Equal(C(0), (string?)device["customerId"]);
        await using var connection = run.Connect();
        Assert.Equal(customers, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM scheduled_actions"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM profiles WHERE customer_id IS NULL"));
    }

    const string QuartzRules = """
        campaigns:
          - id: every-two-seconds
            trigger: { schedule: "0/2 * * * * ?", segment: { all: [ { field: phase, op: eq, value: awareness } ] } }
            reentry: { after: 1s }
            steps:
              - action: { kind: banner, slot: home-hero, creative: tick }
          - id: quiet
            trigger: { inactiveFor: 30d }
            steps:
              - action: { kind: banner, slot: home-hero, creative: still-there }
        """;

    /// <summary>A run with <see cref="QuartzRules"/> whose workers log each schedule firing (3010) and each inactivity scan
    /// (3013 when nobody new is quiet) as JSON, whichever worker runs it.</summary>
    static async Task<ProcessRun> QuartzRunAsync()
    {
        var run = await ProcessRun.StartAsync("quartz", QuartzRules, mail: false);
        run.Environment["Scheduling__InactivityScanInterval"] = "00:00:01";
        run.Environment["Logging__Format"] = "json";
        run.Environment["Logging__LogLevel__CampaignOrchestrator.Infrastructure.Campaigns.TriggerScans"] = "Debug";
        return run;
    }

    /// <summary>The JSON log entries of these workers with <paramref name="eventId"/>: which worker, and the time in <paramref name="key"/>.</summary>
    static List<(int Worker, DateTimeOffset At)> Logged(IReadOnlyList<Process> workers, int eventId, string key) =>
        workers.SelectMany((w, k) => WorkerProcess.Output(w).Where(line => line.StartsWith('{')).Select(line => (Worker: k, Entry: System.Text.Json.Nodes.JsonNode.Parse(line)!)))
            .Where(l => (int?)l.Entry["EventId"] == eventId)
            .Select(l => (l.Worker, DateTimeOffset.Parse((string)l.Entry["State"]![key]!, System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(l => l.Item2).ToList();

    [Fact]
    public async Task Three_workers_on_clustered_Quartz_run_each_firing_of_a_cron_schedule_and_of_the_inactivity_scan_once()
    {
        const int customers = 20;
        await using var run = await QuartzRunAsync();
        var workers = (await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => run.StartWorkerAsync()))).Select(w => w.Process).ToList();
        var at = DateTimeOffset.UtcNow;
        foreach (var i in Enumerable.Range(0, customers))
            await run.Shop.PublishAsync(Events.Json("page_viewed", $"{run.Id}-{i}", at, $"q-{run.Id}-{i}"));
        // The firings counted are those after every worker is up and the customers are stored.
        var from = DateTimeOffset.UtcNow.AddSeconds(2);
        await Task.Delay(TimeSpan.FromSeconds(16));
        var until = DateTimeOffset.UtcNow.AddSeconds(-2);
        var stops = new List<(TimeSpan Took, int ExitCode)>();
        foreach (var worker in workers)
            stops.Add(await WorkerProcess.TerminateAsync(worker, TimeSpan.FromSeconds(30)));

        var firings = Logged(workers, 3010, "FireTime").Select(f => (f.Worker, FireTime: f.At)).Where(f => f.FireTime >= from && f.FireTime <= until).ToList();
        output.WriteLine($"{firings.Count} schedule firings from {from:T} to {until:T}: " +
            string.Join(", ", firings.Select(f => $"{f.FireTime:HH:mm:ss} by worker {f.Worker}")));
        Assert.True(firings.Count >= 5, $"only {firings.Count} firings of a schedule every 2 s in {until - from}");
        Assert.All(firings.GroupBy(f => f.FireTime), g => Assert.True(g.Count() == 1, $"the firing of {g.Key:O} ran {g.Count()} times"));
        Assert.All(firings.Zip(firings.Skip(1)), p => Assert.Equal(TimeSpan.FromSeconds(2), p.Second.FireTime - p.First.FireTime));

        // Each scan logs the Quartz firing it is: a firing run twice (on two workers, or twice on one) would log its fire time twice.
        // (Scan start times cannot tell: under load a firing held back by the one before runs right after it.)
        var scans = Logged(workers, 3013, "FireTime").Concat(Logged(workers, 3009, "FireTime")).Select(s => (s.Worker, FireTime: s.At))
            .Where(s => s.FireTime >= from && s.FireTime <= until).OrderBy(s => s.FireTime).ToList();
        var gaps = scans.Zip(scans.Skip(1), (a, b) => b.FireTime - a.FireTime).ToList();
        output.WriteLine($"{scans.Count} inactivity scans by workers {string.Join(",", scans.Select(s => s.Worker).Distinct())}; " +
            $"fire times {(gaps.Count > 0 ? $"{gaps.Min().TotalMilliseconds:N0}-{gaps.Max().TotalMilliseconds:N0} ms" : "none")} apart");
        Assert.True(scans.Count >= 8, $"only {scans.Count} inactivity scans at a 1-s interval in {until - from}");
        Assert.All(scans.GroupBy(s => s.FireTime), g => Assert.True(g.Count() == 1, $"the scan firing of {g.Key:O} ran {g.Count()} times"));
        Assert.All(gaps, g => Assert.True(g >= TimeSpan.FromMilliseconds(999), $"two scan firings {g.TotalMilliseconds:N0} ms apart (the interval is 1 s)"));

        // Each firing reached every customer of the segment once.
        await using var connection = run.Connect();
        var perFiring = (await connection.QueryAsync<(string TriggerId, long Count)>(
            "SELECT trigger_id, count(*) FROM scheduled_actions WHERE campaign_id = 'every-two-seconds' GROUP BY trigger_id")).ToDictionary(r => r.TriggerId, r => r.Count);
        Assert.All(firings, f => Assert.Equal(customers, perFiring.GetValueOrDefault($"schedule:{f.FireTime.UtcTicks}")));
        Assert.All(stops, s => Assert.Equal(0, s.ExitCode));
    }

    [Fact]
    public async Task The_worker_running_the_schedule_killed_hands_the_firings_to_another_within_the_check_in_threshold()
    {
        const int customers = 10;
        await using var run = await QuartzRunAsync();
        // Check-in every 2 s, a worker gone after 5 s without one (the defaults are 10 s and 20 s: the same hand-over, slower).
        run.Environment["Scheduling__ClusterCheckIn"] = "00:00:02";
        run.Environment["Scheduling__ClusterFailoverAfter"] = "00:00:05";
        var workers = (await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => run.StartWorkerAsync()))).Select(w => w.Process).ToList();
        foreach (var i in Enumerable.Range(0, customers))
            await run.Shop.PublishAsync(Events.Json("page_viewed", $"{run.Id}-{i}", DateTimeOffset.UtcNow, $"q-{run.Id}-{i}"));
        // Running: firings of the schedule logged (every 2 s) after the customers are stored.
        var running = DateTime.UtcNow.AddSeconds(30);
        while (Logged(workers, 3010, "FireTime").Count(f => f.At > DateTimeOffset.UtcNow.AddSeconds(-20)) < 3 && DateTime.UtcNow < running)
            await Task.Delay(250);
        var runner = Logged(workers, 3010, "FireTime").Last().Worker;
        var survivor = 1 - runner;
        await WorkerProcess.KillAsync(workers[runner]);
        var killedAt = DateTimeOffset.UtcNow;
        output.WriteLine($"{killedAt:T}: worker {runner}, which ran the last firing, killed");
        // Quartz's cluster check-in (2 s, a worker gone after 5 s) hands the trigger to the survivor; the firings missed
        // meanwhile are made up by one (FireAndProceed), not a burst.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Logged(workers, 3010, "FireTime").Count(f => f.Worker == survivor && f.At > killedAt) < 3 && DateTime.UtcNow < deadline)
            await Task.Delay(500);
        var after = Logged(workers, 3010, "FireTime").Where(f => f.Worker == survivor && f.At > killedAt).ToList();
        output.WriteLine($"firings by the survivor after the kill: {string.Join(", ", after.Select(f => $"{f.At:HH:mm:ss}"))}");
        Assert.True(after.Count >= 3, $"the survivor ran {after.Count} firings in the 30 s after the kill");
        Assert.True(after[0].At - killedAt < TimeSpan.FromSeconds(12), $"the first firing after the kill was {after[0].At - killedAt} later");
        // After the hand-over the firings run on time again, 2 s apart, once each.
        Assert.All(after.Skip(1).Zip(after.Skip(2)), p => Assert.Equal(TimeSpan.FromSeconds(2), p.Second.At - p.First.At));
        await using var connection = run.Connect();
        var perFiring = (await connection.QueryAsync<(string TriggerId, long Count)>(
            "SELECT trigger_id, count(*) FROM scheduled_actions WHERE campaign_id = 'every-two-seconds' GROUP BY trigger_id")).ToDictionary(r => r.TriggerId, r => r.Count);
        Assert.All(after.Skip(1), f => Assert.Equal(customers, perFiring.GetValueOrDefault($"schedule:{f.At.UtcTicks}")));
    }

    /// <summary>The customer's journey once <paramref name="until"/> holds (up to 60 s), or null.</summary>
    static async Task<System.Text.Json.Nodes.JsonObject?> WaitForAsync(HttpClient http, string id, Func<System.Text.Json.Nodes.JsonObject, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        System.Text.Json.Nodes.JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var response = await http.GetAsync($"/api/customers/{id}");
            if (response.IsSuccessStatusCode)
            {
                last = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
                if (until(last))
                    return last;
            }
            await Task.Delay(200);
        }
        return last is not null && until(last) ? last : null;
    }

    /// <summary>
    /// Three workers, the orders and carts published over about four seconds; two seconds in, one worker is stopped with
    /// SIGTERM (and, with <paramref name="kill"/>, another killed with SIGKILL); both are started again. Checks that every
    /// action was delivered once in the store and every email reached the sink; returns the emails that arrived more than once.
    /// </summary>
    async Task<(Dictionary<string, int> Repeats, List<(TimeSpan Took, int ExitCode)> Stops)> RunAsync(bool kill)
    {
        await using var run = await ProcessRun.StartAsync("scale", Rules);
        run.Environment["Scheduling__ClaimLease"] = "00:00:05";
        run.Environment["Scheduling__DeliveryConcurrency"] = DeliveryConcurrency.ToString();
        run.Environment["Shutdown__Timeout"] = "00:00:10";
        var workers = (await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => run.StartWorkerAsync()))).Select(w => w.Process).ToArray();
        var stops = new List<(TimeSpan, int)>();
        var clock = Stopwatch.StartNew();
        var at = DateTimeOffset.UtcNow;
        var faults = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            if (kill)
                await WorkerProcess.KillAsync(workers[0]);
            stops.Add(await WorkerProcess.TerminateAsync(workers[1], TimeSpan.FromSeconds(30)));
            output.WriteLine($"{clock.Elapsed}: worker 1 stopped ({stops[0]}){(kill ? ", worker 0 killed" : "")}");
            await Task.WhenAll(Enumerable.Range(0, kill ? 2 : 1).Select(_ => run.StartWorkerAsync()));
            output.WriteLine($"{clock.Elapsed}: restarted");
        });
        for (var i = 0; i < Orders + Carts; i++)
        {
            var customer = $"shopper-{run.Id}-{i / 2}";
            var traits = new { email = $"shopper-{i / 2}@example.com", emailConsent = true };
            await run.Shop.PublishAsync(i % 2 == 0
                ? Events.Json("order_placed", $"order-{run.Id}-{i}", at, customer, traits: traits,
                    properties: new { orderId = $"o-{i}", total = 10, currency = "EUR" })
                : Events.Json("cart_abandoned", $"cart-{run.Id}-{i}", at, customer, traits: traits,
                    properties: new { cartId = $"cart-{i}", cartValue = 80 }));
            if (i % 30 == 29)
                await Task.Delay(200);   // 600 events over about four seconds
        }
        output.WriteLine($"{clock.Elapsed}: published {Orders + Carts}");
        await faults;

        await using var connection = run.Connect();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        List<(string ActionId, string Status)> actions;
        do
        {
            await Task.Delay(500);
            actions = (await connection.QueryAsync<(string, string)>("SELECT action_id, status FROM scheduled_actions")).ToList();
        }
        while ((actions.Count < Orders + Carts || actions.Any(a => a.Status is "pending" or "claimed")) && DateTime.UtcNow < deadline);
        output.WriteLine($"{clock.Elapsed}: {actions.Count} actions, " + string.Join(", ", actions.GroupBy(a => a.Status).Select(g => $"{g.Count()} {g.Key}")));
        var events = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM events");
        var errors = await run.Shop.DrainAsync(run.Queue + "_error");
        output.WriteLine($"{events} events stored; error queue: {errors.Count}");
        Assert.Equal(Orders + Carts, events);
        Assert.Empty(errors);
        Assert.Equal(Orders + Carts, actions.Count);
        Assert.All(actions, a => Assert.Equal("delivered", a.Status));
        var logged = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM action_log WHERE outcome = 'delivered'");
        Assert.Equal(Orders + Carts, logged);

        var seen = await MailSink.WaitForAsync(run.Domain, Orders + Carts, TimeSpan.FromSeconds(30));
        Assert.Equal(actions.Select(a => a.ActionId).Order(StringComparer.Ordinal), seen.Keys.Order(StringComparer.Ordinal));
        var repeats = seen.Where(s => s.Value > 1).ToDictionary(s => s.Key, s => s.Value);
        output.WriteLine($"{seen.Count} emails, {repeats.Values.Sum() - repeats.Count} repeats");
        return (repeats, stops);
    }
}
