using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace CampaignOrchestrator.Bench;

/// <summary>
/// Banner reads as the webshop makes them (docs/benchmarks.md): a store holding a placement for each of
/// <c>customers</c> customers, the worker process serving <c>GET /api/placements/{id}?slot=home-hero</c> with the API key,
/// <c>concurrency</c> clients reading random customers (one in twenty unknown: the default answer) as fast as they
/// can for <c>seconds</c> seconds after a warm-up. Reports reads a second, latency percentiles, the worker's CPU a read
/// and its peak memory. Client and worker share the machine's cores.
/// </summary>
internal static class PlacementBench
{
    const string Key = "bench-placement-key-0123456789";

    public static async Task RunAsync(string provider, string workerDll, string postgres, int rabbitPort, string vhost, int customers, int concurrency, int seconds, int rate)
    {
        var folder = Directory.CreateTempSubdirectory("co-placements-").FullName;
        var (connectionString, pgDatabase) = await BenchDatabase.CreateAsync(provider, postgres, folder, "placements");
        try
        {
            var database = new Database(provider == "Postgres" ? StorageProvider.Postgres : StorageProvider.Sqlite, connectionString);
            await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
            var now = DateTimeOffset.UtcNow;
            for (var from = 0; from < customers; from += 10_000)
            {
                var rows = Enumerable.Range(from, Math.Min(10_000, customers - from))
                    .Select(i => new object?[] { $"c:bench-{i}", "home-hero", $"creative-{i % 7}", "offer-banner", $"action-{i:x8}", now, now.AddDays(14) })
                    .ToList();
                await using var connection = await database.OpenAsync(default);
                await using var tx = await connection.BeginTransactionAsync();
                await BulkRows.InsertAsync(connection, tx, database.Dialect, "placements", BannerChannel.Columns, rows, default);
                await tx.CommitAsync();
            }
            database.Dispose(); // the worker holds the SQLite file now
            Console.WriteLine($"  {provider}: {customers:N0} customers with a home-hero banner");

            var port = 5192;
            var queue = "bench-placements-" + Guid.NewGuid().ToString("N")[..8];
            using var worker = WorkerRuntime.Start(workerDll, queue, rabbitPort, vhost, provider, connectionString, port, new Dictionary<string, string>
            {
                ["Placements__ApiKey"] = Key, ["Placements__Defaults__home-hero"] = "house-default",
                // The limiter stays on (its cost is part of the measurement), above the load the bench makes from one address.
                ["RateLimits__PlacementsPerSecond"] = "100000",
            });
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            };
            http.DefaultRequestHeaders.Add("X-Api-Key", Key);
            for (var i = 0; ; i++)
            {
                try { if ((await http.GetAsync("/health")).IsSuccessStatusCode) break; } catch (HttpRequestException) { }
                if (i > 300) throw new TimeoutException("worker did not become healthy");
                await Task.Delay(100);
            }

            await LoadAsync(http, customers, concurrency, TimeSpan.FromSeconds(5), rate); // warm-up: JIT, connections, page cache
            using var ops = WorkerRuntime.Http(port);   // the placement key reads placements only
            var before = (await ops.GetFromJsonAsync<JsonObject>("/api/metrics"))!["process"]!;
            var (latencies, errors, elapsed) = await LoadAsync(http, customers, concurrency, TimeSpan.FromSeconds(seconds), rate);
            var after = (await ops.GetFromJsonAsync<JsonObject>("/api/metrics"))!["process"]!;
            var peakKb = File.ReadLines($"/proc/{worker.Id}/status").Where(l => l.StartsWith("VmHWM:")).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).First();
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
            await BenchRabbit.DeleteQueueAsync(rabbitPort, vhost, queue);

            latencies.Sort();
            double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(latencies.Count * q) - 1)] / 1000.0;
            var cpuUs = ((long)after["cpuMs"]! - (long)before["cpuMs"]!) * 1000.0 / latencies.Count;
            Console.WriteLine($"  {provider}: {latencies.Count / elapsed.TotalSeconds:N0} reads/s over {elapsed.TotalSeconds:N0} s with {concurrency} clients{(rate > 0 ? $" paced at {rate:N0}/s" : "")}; " +
                $"latency p50 {P(0.5):N2} ms, p99 {P(0.99):N2} ms, max {latencies[^1] / 1000.0:N1} ms; {errors} errors; " +
                $"worker CPU {cpuUs:N0} µs a read, peak RSS {peakKb / 1024.0:N0} MB");
        }
        finally
        {
            await BenchDatabase.DropAsync(postgres, pgDatabase);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, true);
        }
    }

    /// <param name="rate">Reads a second in all, each client at its share (how late the client's timer started them is printed
    /// apart; the latencies are the server's, from send to answer); 0: as fast as the answers come.</param>
    /// <returns>Each read's latency in µs, the reads that did not answer 200 with the expected creative, and the time taken.</returns>
    static async Task<(List<long> Latencies, int Errors, TimeSpan Elapsed)> LoadAsync(HttpClient http, int customers, int concurrency, TimeSpan duration, int rate)
    {
        var watch = Stopwatch.StartNew();
        var errors = 0;
        var loops = Enumerable.Range(0, concurrency).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            var mine = new List<long>(100_000);
            var lateness = new List<long>(100_000);
            var interval = rate > 0 ? TimeSpan.FromSeconds((double)concurrency / rate) : TimeSpan.Zero;
            var due = watch.Elapsed + interval * random.NextDouble();
            while (watch.Elapsed < duration)
            {
                var i = random.Next(customers * 21 / 20); // one in twenty is nobody we know: the slot's default
                var started = Stopwatch.GetTimestamp();
                if (rate > 0)
                {
                    var wait = due - watch.Elapsed;
                    if (wait > TimeSpan.FromMilliseconds(1))
                        await Task.Delay(wait);
                    started = Stopwatch.GetTimestamp();
                    lateness.Add((long)(watch.Elapsed - due).TotalMicroseconds);
                    due += interval;
                }
                using var response = await http.GetAsync($"/api/placements/bench-{i}?slot=home-hero");
                var body = await response.Content.ReadAsStringAsync();
                mine.Add((long)Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                var expected = i < customers ? $"\"creative-{i % 7}\"" : "\"house-default\"";
                if (response.StatusCode != HttpStatusCode.OK || !body.Contains(expected, StringComparison.Ordinal))
                    Interlocked.Increment(ref errors);
            }
            return (mine, lateness);
        })).ToList();
        var results = await Task.WhenAll(loops);
        var late = results.SelectMany(r => r.lateness).Order().ToList();
        if (late.Count > 0 && duration > TimeSpan.FromSeconds(5))
            Console.WriteLine($"  (paced reads started late by the client's timer: p50 {late[late.Count / 2] / 1000.0:N2} ms, p99 {late[(int)(late.Count * 0.99)] / 1000.0:N2} ms; not in the latencies)");
        return (results.SelectMany(r => r.mine).ToList(), errors, watch.Elapsed);
    }
}
