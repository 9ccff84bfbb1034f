using System.Data.Common;
using System.Diagnostics;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Data.Sqlite;

namespace CampaignOrchestrator.Worker.Preview;

/// <summary>
/// A rules change tried before it goes live: the events stored in the last N days are replayed, in the order the worker
/// received them and on a virtual clock at the times it did, through two <see cref="Simulation"/>s on throwaway SQLite
/// files, one with the rules in force and one with the proposal; what each run's actions became (scheduled, delivered,
/// suppressed, cancelled, still pending) is compared per campaign, with example customers for each difference. Derived
/// events (a derived cart_abandoned, a phase step's reset) are left out: each run derives its own. The real store is only
/// read. Both runs start from empty journeys at the window's start, so a customer's earlier history (orders, phase,
/// re-entry) is not known to them: a longer window is closer. Events go in as the worker batched them (those within a
/// minute, up to 500, together), and what fell due between batches fires at the next one (up to a minute late).
/// A preview has a budget (<see cref="PreviewOptions.MaxDuration"/>, <see cref="PreviewOptions.CpuShare"/>) and can be
/// stopped; either way it answers what it judged up to then (<see cref="PreviewResult.Complete"/> false, with why and until when).
/// </summary>
internal sealed class RulesPreview(JourneyReader stored, ActiveRules active, TimeProvider time)
{
    const int PageSize = 5000, BatchSize = 500;
    static readonly TimeSpan BatchSpan = TimeSpan.FromMinutes(1);
    const int Examples = 5;

    /// <param name="progress">Called with (events replayed, events in the window) as the replay goes.</param>
    /// <param name="ct">Ends the preview without a result (the worker stops).</param>
    /// <param name="budget">How long it may run and what share of a core it may use; null: no bound.</param>
    /// <param name="stop">Stops the replay: the result covers the events judged so far.</param>
    public async Task<PreviewResult> RunAsync(CompiledRules proposal, int days, Action<long, long>? progress, CancellationToken ct,
        PreviewOptions? budget = null, CancellationToken stop = default)
    {
        var watch = Stopwatch.StartNew();
        var (maxDuration, cpuShare) = (budget?.MaxDuration ?? TimeSpan.MaxValue, budget?.CpuShare ?? 1.0);
        string? stopped = null;
        var now = time.GetUtcNow();
        var since = now - TimeSpan.FromDays(days);
        var current = active.Current;
        var folder = Directory.CreateTempSubdirectory("co-preview-").FullName;
        try
        {
            var (first, total) = await stored.EventsReceivedSinceAsync(since, ct);
            using var inForce = new Simulation(current, Path.Combine(folder, "current"), null);
            using var proposed = new Simulation(proposal, Path.Combine(folder, "proposed"), null);
            Directory.CreateDirectory(Path.Combine(folder, "current"));
            Directory.CreateDirectory(Path.Combine(folder, "proposed"));
            await Task.WhenAll(inForce.StartAsync(since), proposed.StartAsync(since));

            long replayed = 0, after = first - 1;
            var judgedUntil = since;
            progress?.Invoke(0, total);
            while (!ct.IsCancellationRequested && (stopped = Stopped(stop, watch.Elapsed, maxDuration)) is null)
            {
                var page = await stored.EventsAfterAsync(after, PageSize, ct);
                if (page.Count == 0)
                    break;
                foreach (var batch in Batches(page.Where(r => !(r.Context?.Contains("\"derived\":true", StringComparison.Ordinal) ?? false) && r.ReceivedAt <= now)))
                {
                    if ((stopped = Stopped(stop, watch.Elapsed, maxDuration)) is not null)
                        break;
                    var busy = Stopwatch.StartNew();
                    var events = batch.Select(r => AcceptedEvent.FromJson(r.EventId, r.Type, r.OccurredAt, r.CustomerId, r.AnonymousId, r.Traits, r.Properties, r.Context)).ToList();
                    var (start, end) = (batch[0].ReceivedAt, batch[^1].ReceivedAt);
                    await Task.WhenAll(Replay(inForce, events, start, end), Replay(proposed, events, start, end));
                    (after, judgedUntil) = (batch[^1].Seq, end);
                    progress?.Invoke(Math.Min(replayed + Passed(page, after), total), total);
                    // At most CpuShare of the time: the worker's own events come first.
                    if (cpuShare < 1)
                        await Task.Delay(busy.Elapsed * (1 / cpuShare - 1), ct);
                }
                if (stopped is not null)
                {
                    replayed += Passed(page, after);
                    break;
                }
                after = page[^1].Seq;
                replayed += page.Count;
                progress?.Invoke(Math.Min(replayed, total), total);
            }
            ct.ThrowIfCancellationRequested();
            if (replayed >= total)
                stopped = null;   // it stopped after the last event
            // A stopped preview fires what fell due up to the last event it judged; a whole one, up to now.
            var until = stopped is null ? now : judgedUntil;
            await Task.WhenAll(inForce.CatchUpAsync(until), proposed.CatchUpAsync(until));
            var campaigns = Compare(await inForce.ActionsAsync(), await proposed.ActionsAsync(), current, proposal);
            return new PreviewResult(current.Version, proposal.Version, since, now, total, Math.Round(watch.Elapsed.TotalSeconds, 1), campaigns)
            {
                Judged = Math.Min(replayed, total), JudgedUntil = until, Complete = stopped is null, Stopped = stopped,
            };
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>How many rows of <paramref name="page"/> (in seq order) are at or before <paramref name="seq"/>.</summary>
    static int Passed(IReadOnlyList<StoredEventRow> page, long seq)
    {
        var (low, high) = (0, page.Count);
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (page[mid].Seq <= seq)
                low = mid + 1;
            else
                high = mid;
        }
        return low;
    }

    static string? Stopped(CancellationToken stop, TimeSpan elapsed, TimeSpan maxDuration) =>
        stop.IsCancellationRequested ? "cancelled"
        : elapsed >= maxDuration ? $"its time budget of {maxDuration:g} (Preview:MaxDuration) was used"
        : null;

    static async Task Replay(Simulation run, IReadOnlyList<AcceptedEvent> events, DateTimeOffset start, DateTimeOffset end)
    {
        await run.CatchUpAsync(start);
        await run.ConsumeBatchAsync(events, end);
    }

    /// <summary>Events that arrived together: at most <see cref="BatchSize"/>, within <see cref="BatchSpan"/> of the first.</summary>
    static IEnumerable<List<StoredEventRow>> Batches(IEnumerable<StoredEventRow> rows)
    {
        var batch = new List<StoredEventRow>();
        foreach (var row in rows)
        {
            if (batch.Count > 0 && (batch.Count >= BatchSize || row.ReceivedAt - batch[0].ReceivedAt > BatchSpan || row.ReceivedAt < batch[^1].ReceivedAt))
            {
                yield return batch;
                batch = [];
            }
            batch.Add(row);
        }
        if (batch.Count > 0)
            yield return batch;
    }

    static IReadOnlyList<PreviewCampaign> Compare(IReadOnlyList<ActionState> current, IReadOnlyList<ActionState> proposed, CompiledRules inForce, CompiledRules proposal)
    {
        var ids = inForce.Campaigns.Select(c => c.Id).Concat(proposal.Campaigns.Select(c => c.Id))
            .Concat(current.Select(a => a.CampaignId)).Concat(proposed.Select(a => a.CampaignId)).Distinct(StringComparer.Ordinal);
        return ids.Select(id =>
        {
            var before = current.Where(a => a.CampaignId == id).ToList();
            var after = proposed.Where(a => a.CampaignId == id).ToList();
            // A customer's fate in the campaign: each step and what it became.
            static Dictionary<string, string> fates(List<ActionState> actions) => actions.GroupBy(a => a.ProfileId, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => string.Join(",", g.OrderBy(a => a.Step).Select(a => $"{a.Step}:{a.Status}")), StringComparer.Ordinal);
            var was = fates(before);
            var will = fates(after);
            static string name(string profile) => profile.Length > 2 && profile[1] == ':' ? profile[2..] : profile;
            var dropped = was.Keys.Where(p => !will.ContainsKey(p)).Order(StringComparer.Ordinal).ToList();
            var added = will.Keys.Where(p => !was.ContainsKey(p)).Order(StringComparer.Ordinal).ToList();
            var changed = was.Keys.Where(p => will.TryGetValue(p, out var f) && f != was[p]).Order(StringComparer.Ordinal).ToList();
            var a = Outcomes.Of(before);
            var b = Outcomes.Of(after);
            return new PreviewCampaign(id, inForce.Campaigns.Any(c => c.Id == id), proposal.Campaigns.Any(c => c.Id == id), a, b, b.Minus(a),
                new PreviewCustomers(dropped.Count, dropped.Take(Examples).Select(name).ToList()),
                new PreviewCustomers(added.Count, added.Take(Examples).Select(name).ToList()),
                new PreviewCustomers(changed.Count, changed.Take(Examples).Select(name).ToList()));
        }).ToList();
    }
}

/// <summary>What a preview found: per campaign the actions with the rules in force and with the proposal, and the difference.</summary>
/// <param name="Events">Events received in the window and replayed.</param>
public sealed record PreviewResult(string CurrentVersion, string ProposedVersion, DateTimeOffset From, DateTimeOffset To, long Events, double Seconds,
    IReadOnlyList<PreviewCampaign> Campaigns)
{
    /// <summary>Events of the window judged (all of them when <see cref="Complete"/>).</summary>
    public long Judged { get; init; }

    /// <summary>The virtual clock where the replay stopped: steps due after it are pending in both runs.</summary>
    public DateTimeOffset JudgedUntil { get; init; }

    /// <summary>Every event of the window was judged; otherwise <see cref="Stopped"/> says why not.</summary>
    public bool Complete { get; init; } = true;

    public string? Stopped { get; init; }
}

/// <param name="OnlyCurrent">Customers who got (steps of) the campaign with the rules in force and not with the proposal.</param>
/// <param name="OnlyProposed">Customers who would get it only with the proposal.</param>
/// <param name="Changed">Customers in both whose steps would end differently (delivered instead of suppressed, and so on).</param>
public sealed record PreviewCampaign(string CampaignId, bool InCurrent, bool InProposed, Outcomes Current, Outcomes Proposed, Outcomes Difference,
    PreviewCustomers OnlyCurrent, PreviewCustomers OnlyProposed, PreviewCustomers Changed);

/// <summary>How many customers, and up to five of them (customerId, or the device's anonymousId).</summary>
public sealed record PreviewCustomers(int Count, IReadOnlyList<string> Examples);

/// <summary>A run's actions of one campaign by what they became.</summary>
public sealed record Outcomes(long Scheduled, long Delivered, long Suppressed, long Cancelled, long Pending, long Failed)
{
    internal static Outcomes Of(IReadOnlyCollection<ActionState> actions) => new(actions.Count,
        actions.LongCount(a => a.Status == "delivered"), actions.LongCount(a => a.Status == "suppressed"), actions.LongCount(a => a.Status == "cancelled"),
        actions.LongCount(a => a.Status is "pending" or "claimed"), actions.LongCount(a => a.Status == "failed"));

    internal Outcomes Minus(Outcomes o) => new(Scheduled - o.Scheduled, Delivered - o.Delivered, Suppressed - o.Suppressed, Cancelled - o.Cancelled,
        Pending - o.Pending, Failed - o.Failed);
}
