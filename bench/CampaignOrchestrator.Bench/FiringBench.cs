using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;

namespace CampaignOrchestrator.Bench;

/// <summary>
/// Firing under load (docs/benchmarks.md): a store holding <c>pending</c> scheduled actions, of which
/// <c>rate</c> a second fall due for <c>seconds</c> seconds while the rest wait for later; the worker
/// process fires them. Reports the firing lag (claim time minus due time, from the outcome log),
/// the rate achieved and the worker's peak memory.
/// </summary>
internal static class FiringBench
{
    public static async Task RunAsync(string provider, string workerDll, string postgres, int rabbitPort, string vhost, int pending, int rate, int seconds)
    {
        var folder = Directory.CreateTempSubdirectory("co-firing-").FullName;
        var (connectionString, pgDatabase) = await BenchDatabase.CreateAsync(provider, postgres, folder, "firing");
        try
        {
            var database = new Database(provider == "Postgres" ? StorageProvider.Postgres : StorageProvider.Sqlite, connectionString);
            await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);

            // The backlog that waits (due in 1-30 days), then the load that falls due during the run.
            var due = rate * seconds;
            var load = Stopwatch.StartNew();
            var now = DateTimeOffset.UtcNow;
            await InsertAsync(database, pending - due, i => now.AddDays(1 + i % 30).AddSeconds(i % 86_400));
            Console.WriteLine($"  {provider}: loaded {pending - due:N0} actions due in 1-30 days in {load.Elapsed.TotalSeconds:N0} s");
            var start = DateTimeOffset.UtcNow.AddSeconds(20); // the worker starts and warms up meanwhile
            await InsertAsync(database, due, i => start.AddTicks(TimeSpan.TicksPerSecond * i / rate), offset: pending - due);
            Console.WriteLine($"  {provider}: loaded {due:N0} actions falling due at {rate:N0}/s for {seconds} s from {start:HH:mm:ss}; {pending:N0} pending");
            database.Dispose(); // the worker holds the SQLite file now

            var port = 5191;
            var queue = "bench-firing-" + Guid.NewGuid().ToString("N")[..8];
            using var worker = WorkerRuntime.Start(workerDll, queue, rabbitPort, vhost, provider, connectionString, port);
            using var http = WorkerRuntime.Http(port);
            var peakRss = 0L;
            while (true)
            {
                peakRss = Math.Max(peakRss, Rss(worker.Id));
                JsonObject? m = null;
                try { m = await http.GetFromJsonAsync<JsonObject>("/api/metrics"); } catch (HttpRequestException) { }
                if (m is not null && (long)m["actions"]!["due"]! >= due)
                    break;
                if (DateTimeOffset.UtcNow > start.AddSeconds(seconds + 120))
                    throw new TimeoutException($"only {m?["actions"]?["due"]} of {due} fired");
                await Task.Delay(100);
            }
            var peakKb = File.ReadLines($"/proc/{worker.Id}/status").Where(l => l.StartsWith("VmHWM:")).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).First();
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
            await BenchRabbit.DeleteQueueAsync(rabbitPort, vhost, queue);

            database = new Database(provider == "Postgres" ? StorageProvider.Postgres : StorageProvider.Sqlite, connectionString);
            await using var connection = await database.OpenAsync(default);
            var lags = (await connection.QueryAsync<long>("SELECT late_ms FROM action_log WHERE late_ms IS NOT NULL ORDER BY late_ms")).ToArray();
            var span = await connection.QueryFirstAsync<(DateTimeOffset First, DateTimeOffset Last)>(
                "SELECT min(at), max(at) FROM action_log WHERE outcome = 'delivered'");
            long P(double q) => lags[Math.Min(lags.Length - 1, (int)Math.Ceiling(lags.Length * q) - 1)];
            Console.WriteLine($"  {provider}: fired {lags.Length:N0} of {due:N0} due ({lags.Length / Math.Max(1, (span.Last - span.First).TotalSeconds):N0}/s while due at {rate:N0}/s); " +
                $"firing lag p50 {P(0.5)} ms, p99 {P(0.99)} ms, max {lags[^1]} ms; worker peak RSS {peakKb / 1024.0:N0} MB; " +
                $"{await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM scheduled_actions WHERE status = 'pending'"):N0} still pending");
            database.Dispose();
        }
        finally
        {
            await BenchDatabase.DropAsync(postgres, pgDatabase);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, true);
        }
    }

    static long Rss(int pid)
    {
        try
        {
            return File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:")).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).FirstOrDefault();
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Banner steps of the default rules' award-banner campaign (so the worker's rules keep them), for 100,000 customers.</summary>
    static async Task InsertAsync(Database database, int count, Func<int, DateTimeOffset> dueAt, int offset = 0)
    {
        const int chunk = 10_000;
        var created = DateTimeOffset.UtcNow;
        for (var from = 0; from < count; from += chunk)
        {
            var rows = new List<ActionRow>(chunk);
            for (var i = from; i < Math.Min(count, from + chunk); i++)
            {
                var id = (offset + i).ToString("x8");
                var due = dueAt(i);
                rows.Add(new ActionRow
                {
                    ActionId = id, CampaignId = "award-banner", Step = 1, ProfileId = $"c:bench-{(offset + i) % 100_000}", TriggerId = "bench-" + id,
                    TriggeredAt = created, Cause = "bench", Kind = "banner", Channel = "banner", Settings = "{\"slot\":\"home-hero\",\"creative\":\"award-2026\"}",
                    RulesVersion = "bench", Fingerprint = "bench", PlannedAt = due, DueAt = due, CreatedAt = created,
                });
            }
            await using var connection = await database.OpenAsync(default);
            await using var tx = await connection.BeginTransactionAsync();
            await new ActionStore(database, NullLogger.Instance).InsertAsync(connection, tx, rows, [], default);
            await tx.CommitAsync();
        }
    }
}
