using System.Diagnostics;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Worker.Preview;
using Microsoft.Extensions.Logging.Abstractions;

namespace CampaignOrchestrator.Bench;

/// <summary>
/// A rules preview at size (docs/benchmarks.md, "Rules preview"): --days days of --per-day events (shoppers of about ten
/// events, in the order they arrived) stored, then the default rules against the same with the cart threshold raised from
/// 25 to 50, replayed by <see cref="RulesPreview"/>: time, events a second, and the process's peak memory.
/// </summary>
public static class PreviewBench
{
    public static async Task RunAsync(string provider, string postgres, int days, int perDay)
    {
        var folder = Directory.CreateTempSubdirectory("co-preview-bench-").FullName;
        var (connectionString, pgDatabase) = await BenchDatabase.CreateAsync(provider, postgres, folder, "preview");
        try
        {
            var storage = provider == "Postgres" ? StorageProvider.Postgres : StorageProvider.Sqlite;
            using var database = new Database(storage, connectionString);
            await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
            var now = DateTimeOffset.UtcNow;
            var loaded = await FunnelBench.LoadEventsAsync(database, storage, days * perDay, now, days);
            Console.WriteLine($"  {provider}: stored {loaded:N0} events of the last {days} days");

            var inForce = RulesFiles.Load("rules");
            var active = new ActiveRules(new CompiledRules(inForce.Rules, inForce.Version), now);
            var proposalText = File.ReadAllText(Path.Combine("rules", "default.yaml"))
                .Replace("{ field: properties.cartValue, op: gte, value: 25 }", "{ field: properties.cartValue, op: gte, value: 50 }", StringComparison.Ordinal);
            var proposal = RulesFiles.Compile([new RulesSource("default.yaml", proposalText)]);
            var preview = new RulesPreview(new JourneyReader(database), active, TimeProvider.System);
            // The loader's rows are garbage now: what the preview itself holds is the working set and managed heap during it.
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            var before = Environment.WorkingSet;
            long peak = before, peakHeap = 0;
            using var sampler = new Timer(_ =>
            {
                peak = Math.Max(peak, Environment.WorkingSet);
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
            }, null, 0, 100);
            var watch = Stopwatch.StartNew();
            var result = await preview.RunAsync(new CompiledRules(proposal.Rules, proposal.Version), days, null, default);
            Console.WriteLine($"  {provider}: preview of {days} days, {result.Events:N0} events: {watch.Elapsed.TotalSeconds:N0} s " +
                $"({result.Events / watch.Elapsed.TotalSeconds:N0} events/s, two runs); working set {before / 1048576:N0} MB before, at most {peak / 1048576:N0} MB " +
                $"during; managed heap at most {peakHeap / 1048576:N0} MB");
            foreach (var c in result.Campaigns.Where(c => c.Current.Scheduled + c.Proposed.Scheduled > 0))
                Console.WriteLine($"    {c.CampaignId}: {c.Current.Scheduled:N0} -> {c.Proposed.Scheduled:N0} scheduled; {c.OnlyCurrent.Count:N0} customers no longer, {c.OnlyProposed.Count:N0} only now, {c.Changed.Count:N0} differently");
        }
        finally
        {
            await BenchDatabase.DropAsync(postgres, pgDatabase);
            BenchDatabase.DeleteFolder(folder);
        }
    }
}
