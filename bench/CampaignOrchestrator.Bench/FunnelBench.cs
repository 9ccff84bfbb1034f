using System.Diagnostics;
using System.Globalization;
using System.Text;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;

namespace CampaignOrchestrator.Bench;

/// <summary>
/// The funnel at a real shop's size (docs/benchmarks.md, "The connected funnel"): loads --customers journeys of about ten
/// events each (phase histories from the journey engine, a share of them on two devices) straight into the store's tables,
/// counts them with the funnel job from scratch, then times GET /api/funnel's read (FunnelCounters.ReadAsync) for models,
/// periods and devices, p50/p99, and one segment scan.
/// </summary>
public static class FunnelBench
{
    static readonly string[] Personas = ["runner", "walker", "hiker", "cyclist"];

    public static async Task RunAsync(string provider, string postgres, int customers, int reads, string? workerDll = null, int rabbitPort = 5672, string vhost = "/")
    {
        var folder = Directory.CreateTempSubdirectory("co-funnel-").FullName;
        var (connectionString, pgDatabase) = await BenchDatabase.CreateAsync(provider, postgres, folder, "funnel");
        try
        {
            var storage = provider == "Postgres" ? StorageProvider.Postgres : StorageProvider.Sqlite;
            using var database = new Database(storage, connectionString);
            await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
            var now = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
            var watch = Stopwatch.StartNew();
            var (events, history) = await LoadAsync(database, storage, customers, now);
            Console.WriteLine($"  {provider}: loaded {customers:N0} customers, {events:N0} events, {history:N0} phase changes in {watch.Elapsed.TotalSeconds:N0} s");
            if (storage == StorageProvider.Postgres)
            {
                await using var c = await database.OpenAsync(default);
                await c.ExecuteAsync("VACUUM ANALYZE", commandTimeout: 3600);
            }

            var rules = new CampaignOrchestrator.Infrastructure.Rules.ActiveRules(new CampaignOrchestrator.Core.Campaigns.CompiledRules(RulesParser.Parse("""
                campaigns:
                  - id: cart-recovery
                    trigger: { event: cart_updated }
                    holdout: 10%
                    exitOn: [order_placed]
                    steps:
                      - { delay: 1h, action: { kind: email, template: cart-reminder } }
                      - { delay: 1h, action: { kind: retargeting, audience: cart-abandoners } }
                      - { delay: 22h, action: { kind: offer, discountPercent: 10, validFor: 72h } }
                """, "bench.yaml"), "bench"), now);
            var counters = new FunnelCounters(database, new CampaignResults(database), rules, TimeProvider.System, NullLogger<FunnelCounters>.Instance);
            watch.Restart();
            var counted = await counters.RefreshAsync(default);
            Console.WriteLine($"  {provider}: the funnel job counted {counted:N0} customers from scratch in {watch.Elapsed.TotalSeconds:N0} s " +
                $"({events / watch.Elapsed.TotalSeconds:N0} events/s)");
            await using (var c = await database.OpenAsync(default))
                Console.WriteLine($"  {provider}: funnel_counts holds {await c.ExecuteScalarAsync<long>("SELECT count(*) FROM funnel_counts"):N0} rows");

            var cases = new (string Name, string Model, TimeSpan Period, bool? Cross)[]
            {
                ("five-phase, 30 days", "five-phase", TimeSpan.FromDays(30), null),
                ("see-think-do-care, 90 days", "see-think-do-care", TimeSpan.FromDays(90), null),
                ("race, 366 days, cross-device", "race", TimeSpan.FromDays(366), true),
            };
            var first = await counters.ReadAsync(PhaseVocabulary.FivePhase, now - TimeSpan.FromDays(366), now, null, null, 200_000, default);
            Console.WriteLine($"  {provider}: a year: {string.Join(", ", first.Phases.Select(p => $"{p.Phase} {p.Reached:N0}/{p.Now:N0}"))}; customers {first.Customers:N0}");
            foreach (var (name, model, period, cross) in cases)
            {
                var times = new List<double>();
                for (var i = 0; i < reads; i++)
                {
                    var t = Stopwatch.GetTimestamp();
                    // A different end each time (the whole day range moves), so no answer is the one before.
                    var end = now - TimeSpan.FromDays(i % 30);
                    await counters.ReadAsync(PhaseVocabulary.All[model], end - period, end, cross, null, 200_000, default);
                    times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }
                times.Sort();
                Console.WriteLine($"  {provider}: funnel {name}: p50 {times[times.Count / 2]:N2} ms, p99 {times[(int)(times.Count * 0.99)]:N2} ms ({reads} reads)");
            }
            var results = new CampaignOrchestrator.Infrastructure.Actions.CampaignResults(database);
            var year = await results.ReadAsync("cart-recovery", Goal.Default, now - TimeSpan.FromDays(366), now, default);
            Console.WriteLine($"  {provider}: cart-recovery over a year: treated {year.Customers.Treated:N0}, converted {year.Customers.Converted:N0}, " +
                $"holdout {year.Customers.Holdout:N0}/{year.Customers.HoldoutConverted:N0}, lift {year.Lift.Difference:P1} ({year.Lift.Lower:P1} to {year.Lift.Upper:P1}), steps {string.Join(", ", year.Steps.Select(st => $"{st.Step}: {st.Scheduled:N0} scheduled, {st.Delivered:N0} delivered"))}");
            foreach (var days in new[] { 30, 90 })
            {
                var times = new List<double>();
                for (var i = 0; i < reads; i++)
                {
                    var t = Stopwatch.GetTimestamp();
                    var end = now - TimeSpan.FromDays(i % 30);
                    await results.ReadAsync("cart-recovery", Goal.Default, end - TimeSpan.FromDays(days), end, default);
                    times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }
                times.Sort();
                Console.WriteLine($"  {provider}: results cart-recovery, {days} days: p50 {times[times.Count / 2]:N2} ms, p99 {times[(int)(times.Count * 0.99)]:N2} ms ({reads} reads)");
            }
            watch.Restart();
            var segment = await counters.ReadAsync(PhaseVocabulary.FivePhase, now - TimeSpan.FromDays(90), now, null,
                RulesParser.ParseSegment("traits.persona eq runner", "five-phase"), 200_000, default);
            Console.WriteLine($"  {provider}: segment traits.persona eq runner: {watch.Elapsed.TotalMilliseconds:N0} ms, judged {segment.Scan!.Scanned:N0}, " +
                $"matched {segment.Scan.Matched:N0}, complete {segment.Scan.Complete}");
            database.Dispose(); // the worker holds the SQLite file now
            if (!string.IsNullOrEmpty(workerDll))
                await DashboardAsync(provider, connectionString, workerDll, rabbitPort, vhost);
        }
        finally
        {
            await BenchDatabase.DropAsync(postgres, pgDatabase);
            BenchDatabase.DeleteFolder(folder);
        }
    }

    /// <summary>
    /// The dashboard in headless Chromium against a worker on this store: from navigation to the funnel chart drawn (the
    /// page, its script, the session, /api/funnel and the SVG), signed in; ten loads, the first one cold.
    /// </summary>
    static async Task DashboardAsync(string provider, string connectionString, string workerDll, int rabbitPort, string vhost)
    {
        const int Port = 5193;
        using var worker = WorkerRuntime.Start(workerDll, "bench-dashboard-" + Guid.NewGuid().ToString("N")[..8], rabbitPort, vhost, provider, connectionString, Port,
            new Dictionary<string, string> { ["Funnel__Enabled"] = "false" });
        try
        {
            using var http = WorkerRuntime.Http(Port);
            for (var i = 0; ; i++)
            {
                try { if ((await http.GetAsync("/health")).IsSuccessStatusCode) break; } catch (HttpRequestException) { }
                if (i > 600) throw new TimeoutException("worker did not become healthy");
                await Task.Delay(100);
            }
            using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox"] });
            var page = await browser.NewPageAsync();
            await page.GotoAsync($"http://127.0.0.1:{Port}/sign-in");
            await page.FillAsync("#key", WorkerRuntime.AdminKey);
            await page.ClickAsync("button[type=submit]");
            await page.WaitForSelectorAsync("body[data-funnel-drawn=true]", new() { Timeout = 30_000 });
            var times = new List<double>();
            for (var i = 0; i < 10; i++)
            {
                var t = Stopwatch.GetTimestamp();
                await page.GotoAsync($"http://127.0.0.1:{Port}/");
                await page.WaitForSelectorAsync("body[data-funnel-drawn=true]", new() { Timeout = 30_000 });
                times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
            var first = times[0];
            times.Sort();
            Console.WriteLine($"  {provider}: dashboard load to funnel drawn (Chromium): first {first:N0} ms, median {times[5]:N0} ms, max {times[^1]:N0} ms (10 loads)");
        }
        finally
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
        }
    }

    /// <summary>
    /// One customer's journey: 1-3 visits (page views), then by chance product views, a cart, a checkout, an order, its
    /// delivery, a second order; spread over the 120 days before <paramref name="now"/>; 15 % on two devices.
    /// </summary>
    static List<(string Type, DateTimeOffset At)> Journey(Random random, DateTimeOffset now, out bool twoDevices, int spreadDays = 120)
    {
        var events = new List<(string, DateTimeOffset)>();
        var at = now - TimeSpan.FromDays(spreadDays) + TimeSpan.FromMinutes(random.Next(0, (spreadDays * 24 - 12) * 60));
        void add(string type, TimeSpan after) { at += after; if (at < now) events.Add((type, at)); }
        for (var i = random.Next(3, 8); i > 0; i--)
            add("page_viewed", TimeSpan.FromMinutes(random.Next(1, 60)));
        twoDevices = random.NextDouble() < 0.15;
        if (random.NextDouble() < 0.7)
        {
            for (var i = random.Next(4, 9); i > 0; i--)
                add("product_viewed", TimeSpan.FromMinutes(random.Next(1, 600)));
            if (random.NextDouble() < 0.45)
            {
                add("cart_updated", TimeSpan.FromMinutes(random.Next(1, 2000)));
                if (random.NextDouble() < 0.3)
                    add("cart_abandoned", TimeSpan.FromMinutes(random.Next(30, 90)));
                else
                {
                    // Half check out at once, half come back within three days (after a reminder, or not).
                    add("checkout_started", TimeSpan.FromMinutes(random.NextDouble() < 0.5 ? random.Next(1, 30) : random.Next(60, 72 * 60)));
                    if (random.NextDouble() >= 0.8)
                        add("cart_abandoned", TimeSpan.FromMinutes(random.Next(30, 90)));
                    else
                    {
                        add("order_placed", TimeSpan.FromMinutes(random.Next(1, 10)));
                        add("order_delivered", TimeSpan.FromHours(random.Next(20, 100)));
                        if (random.NextDouble() < 0.2)
                            add("order_placed", TimeSpan.FromDays(random.Next(5, 40)));
                    }
                }
            }
        }
        return events;
    }

    static async Task<(long Events, long History)> LoadAsync(Database database, StorageProvider storage, int customers, DateTimeOffset now)
    {
        var random = new Random(17);
        long events = 0, history = 0, actions = 0;
        const int Chunk = 20_000;
        for (var from = 0; from < customers; from += Chunk)
        {
            var eventRows = new List<string?[]>();
            var profileRows = new List<string?[]>();
            var historyRows = new List<string?[]>();
            var linkRows = new List<string?[]>();
            var actionRows = new List<string?[]>();
            var logRows = new List<string?[]>();
            for (var i = from; i < Math.Min(customers, from + Chunk); i++)
            {
                var customer = $"shopper-{i}";
                var profile = ProfileIds.ForCustomer(customer);
                var journey = Journey(random, now, out var twoDevices);
                if (journey.Count == 0)
                    continue;
                var persona = Personas[i % Personas.Length];
                var devices = twoDevices ? new[] { $"phone-{i}", $"laptop-{i}" } : [$"browser-{i}"];
                for (var e = 0; e < journey.Count; e++)
                {
                    var (type, at) = journey[e];
                    var properties = type == "order_placed" ? $"{{\"orderId\":\"{customer}-{e}\",\"total\":{40 + i % 60}}}" : null;
                    eventRows.Add([$"{customer}-{e}", profile, type, Time(storage, at), Time(storage, at), customer, devices[e * devices.Length / journey.Count],
                        e == 0 ? $"{{\"persona\":\"{persona}\"}}" : null, properties, "{\"device\":\"mobile\"}"]);
                }
                var (changes, orders) = JourneyEngine.Replay(journey.Select((j, e) => new TimelineEntry($"{customer}-{e}", j.Type, j.At)), PhaseModel.Default);
                foreach (var c in changes)
                    historyRows.Add([profile, c.EventId, c.Phase.ToName(), Time(storage, c.At)]);
                foreach (var device in devices)
                    linkRows.Add([device, customer, Time(storage, journey[0].At), $"{customer}-0"]);
                var last = journey[^1].At;
                profileRows.Add([profile, customer, $"{{\"persona\":\"{persona}\"}}", "{}", changes.Count == 0 ? null : changes[^1].Phase.ToName(),
                    changes.Count == 0 ? null : Time(storage, changes[^1].At), orders.ToString(CultureInfo.InvariantCulture),
                    journey.Count.ToString(CultureInfo.InvariantCulture), Time(storage, journey[0].At), Time(storage, last), Time(storage, last),
                    (orders * (40 + i % 60)).ToString(CultureInfo.InvariantCulture),
                    Time(storage, new DateTimeOffset(last.Year, last.Month, last.Day, last.Hour, 0, 0, TimeSpan.Zero))]);
                events += journey.Count;
                history += changes.Count;
                // cart-recovery: triggered by the cart, a holdout of 10 %, the steps after the order cancelled by it.
                if (journey.FindIndex(j => j.Type == "cart_updated") is var cart and >= 0)
                {
                    var cartAt = journey[cart].At;
                    var order = journey.FindIndex(j => j.Type == "order_placed") is var o and >= 0 ? journey[o].At : (DateTimeOffset?)null;
                    var holdout = i % 10 == 0;
                    var steps = new[] { ("email", TimeSpan.FromHours(1)), ("retargeting", TimeSpan.FromHours(2)), ("offer", TimeSpan.FromHours(24)) };
                    for (var st = 0; st < steps.Length; st++)
                    {
                        var (kind, delay) = steps[st];
                        var due = cartAt + delay;
                        var (status, reason, finished) = holdout ? ("suppressed", "suppressed: holdout", (DateTimeOffset?)due)
                            : order < due ? ("cancelled", "exit: order_placed", order)
                            : due > now ? ("pending", (string?)null, (DateTimeOffset?)null)
                            : ("delivered", null, due);
                        var actionId = $"{customer}-cart-{st + 1}";
                        actionRows.Add([actionId, "cart-recovery", (st + 1).ToString(CultureInfo.InvariantCulture), profile, null, $"{customer}-{cart}", Time(storage, cartAt),
                            "cart_updated", kind, kind == "email" ? "email" : kind, "{}", "0", Bool(storage, holdout), Bool(storage, false), "0", "bench", "bench",
                            Time(storage, due), Time(storage, due), status, null, null, finished is null ? null : Time(storage, finished.Value), reason, null, Time(storage, cartAt)]);
                        logRows.Add([actionId, "cart-recovery", (st + 1).ToString(CultureInfo.InvariantCulture), profile, kind, status, Time(storage, finished ?? cartAt), reason]);
                    }
                }
            }
            await using var connection = await database.OpenAsync(default);
            await CopyAsync(connection, storage, "events", ["event_id", "profile_id", "type", "occurred_at", "received_at", "customer_id", "anonymous_id", "traits", "properties", "context"], eventRows);
            await CopyAsync(connection, storage, "profiles", ["profile_id", "customer_id", "traits", "trait_times", "phase", "phase_since", "order_count", "event_count",
                "first_seen", "last_seen", "updated_at", "order_total", "seen_hour"], profileRows);
            await CopyAsync(connection, storage, "phase_history", ["profile_id", "event_id", "phase", "occurred_at"], historyRows);
            await CopyAsync(connection, storage, "scheduled_actions", ["action_id", "campaign_id", "step", "profile_id", "instance_key", "trigger_id", "triggered_at",
                "cause", "kind", "channel", "settings", "variant", "holdout", "transactional", "priority", "rules_version", "fingerprint", "planned_at", "due_at",
                "status", "claimed_at", "claim_token", "finished_at", "reason", "cause_event_id", "created_at"], actionRows);
            await CopyAsync(connection, storage, "action_log", ["action_id", "campaign_id", "step", "profile_id", "kind", "outcome", "at", "reason"], logRows);
            actions += actionRows.Count;
            await CopyAsync(connection, storage, "anonymous_links", ["anonymous_id", "customer_id", "linked_at", "event_id"], linkRows);
        }
        Console.WriteLine($"  cart-recovery: {actions:N0} actions");
        return (events, history);
    }

    /// <summary>
    /// About <paramref name="count"/> events of shoppers whose journeys start in the last <paramref name="days"/> days, stored
    /// in the order they happened (received as they occurred), with emailConsent and carts with a value: for the preview.
    /// </summary>
    internal static async Task<long> LoadEventsAsync(Database database, StorageProvider storage, int count, DateTimeOffset now, int days)
    {
        var random = new Random(23);
        var rows = new List<(DateTimeOffset At, string?[] Row)>();
        for (var i = 0; rows.Count < count; i++)
        {
            var customer = $"shopper-{i}";
            var journey = Journey(random, now, out _, days);
            for (var e = 0; e < journey.Count; e++)
            {
                var (type, at) = journey[e];
                var properties = type switch
                {
                    "order_placed" => $"{{\"orderId\":\"{customer}-{e}\",\"total\":{40 + i % 60}}}",
                    "cart_updated" or "cart_abandoned" or "checkout_started" => $"{{\"cartId\":\"{customer}-cart\",\"cartValue\":{10 + i % 90}}}",
                    _ => null,
                };
                rows.Add((at, [$"{customer}-{e}", ProfileIds.ForCustomer(customer), type, Time(storage, at), Time(storage, at), customer, $"browser-{i}",
                    e == 0 ? $"{{\"persona\":\"{Personas[i % Personas.Length]}\",\"emailConsent\":true,\"email\":\"{customer}@shop.example\"}}" : null,
                    properties, "{\"device\":\"mobile\"}"]));
            }
        }
        var ordered = rows.OrderBy(r => r.At).Select(r => r.Row).ToList();
        for (var from = 0; from < ordered.Count; from += 50_000)
        {
            await using var connection = await database.OpenAsync(default);
            await CopyAsync(connection, storage, "events", ["event_id", "profile_id", "type", "occurred_at", "received_at", "customer_id", "anonymous_id", "traits", "properties", "context"],
                ordered.GetRange(from, Math.Min(50_000, ordered.Count - from)));
        }
        return ordered.Count;
    }

    static string Bool(StorageProvider storage, bool value) => storage == StorageProvider.Postgres ? (value ? "t" : "f") : (value ? "1" : "0");

    static string Time(StorageProvider storage, DateTimeOffset at) => storage == StorageProvider.Postgres
        ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF'+00'", CultureInfo.InvariantCulture)
        : at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);

    /// <summary>PostgreSQL: COPY in text format; SQLite: one prepared INSERT in a transaction.</summary>
    static async Task CopyAsync(System.Data.Common.DbConnection connection, StorageProvider storage, string table, string[] columns, List<string?[]> rows)
    {
        if (storage == StorageProvider.Postgres)
        {
            await using var writer = await ((Npgsql.NpgsqlConnection)connection).BeginTextImportAsync($"COPY {table} ({string.Join(", ", columns)}) FROM STDIN");
            var line = new StringBuilder();
            foreach (var row in rows)
            {
                line.Clear();
                for (var i = 0; i < row.Length; i++)
                {
                    if (i > 0)
                        line.Append('\t');
                    line.Append(row[i] is null ? "\\N" : row[i]!.Replace("\\", "\\\\"));
                }
                line.Append('\n');
                await writer.WriteAsync(line.ToString());
            }
            return;
        }
        await using var tx = await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "@p" + i))})";
        var parameters = columns.Select((_, i) => { var p = command.CreateParameter(); p.ParameterName = "@p" + i; command.Parameters.Add(p); return p; }).ToArray();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
                parameters[i].Value = (object?)row[i] ?? DBNull.Value;
            await command.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }
}
