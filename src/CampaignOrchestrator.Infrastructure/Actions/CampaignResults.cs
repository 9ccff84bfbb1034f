using System.Data.Common;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Results;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// A campaign's results over a period (<c>GET /api/campaigns/{id}/results</c>): per step what was scheduled, delivered,
/// suppressed (by reason), cancelled (by exit or by an operator) and failed; the customers who got it and converted (the
/// campaign's <see cref="Goal"/> within its window after a delivered step), the revenue attributed, and the holdout from
/// the same trigger over the same window with the lift between them (<see cref="Lift"/>), also per variant.
/// Attribution (docs/decisions/0008-campaign-attribution.md): <see cref="CampaignContributions"/>. The answer reads kept
/// counters (migration 0019) by UTC trigger day, which the counting job (Journeys/FunnelCounters) keeps with
/// <see cref="ComputeAsync"/> and <see cref="ApplyAsync"/> as actions change and goal events arrive; a segment is judged per customer over their stored
/// contributions, up to a bound it reports.
/// </summary>
internal sealed class CampaignResults(Database database)
{
    static readonly string[] CountColumns = ["campaign_id", "day", "result", "n", "revenue"];
    const string CountConflict = "ON CONFLICT (campaign_id, day, result) DO UPDATE SET n = results_counts.n + excluded.n, revenue = results_counts.revenue + excluded.revenue";

    /// <summary>
    /// What <paramref name="profileIds"/> add to every campaign they have actions in now (their actions, their goal events,
    /// <paramref name="goalOf"/> each campaign's goal): a contribution list per customer and campaign. Reads only.
    /// </summary>
    public async Task<Dictionary<(string ProfileId, string CampaignId), string>> ComputeAsync(DbConnection connection, DbTransaction? tx,
        IReadOnlyCollection<string> profileIds, Func<string, Goal> goalOf, CancellationToken ct)
    {
        if (profileIds.Count == 0)
            return [];
        var sql = database.Dialect;
        var actions = (await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT profile_id, campaign_id, step, kind, status, reason, holdout, variant, triggered_at, finished_at FROM scheduled_actions " +
            $"WHERE {sql.In("profile_id", "@ids")}", new { ids = sql.List(profileIds) }, tx, cancellationToken: ct))).ToList();
        var withActions = actions.Select(a => a.ProfileId).Distinct(StringComparer.Ordinal).ToArray();
        var campaigns = actions.Select(a => a.CampaignId).Distinct(StringComparer.Ordinal).ToDictionary(c => c, goalOf, StringComparer.Ordinal);
        var goalTypes = campaigns.Values.Select(g => g.Event).Distinct(StringComparer.Ordinal).ToArray();
        var goalRows = withActions.Length == 0 ? [] : (await connection.QueryAsync<GoalRow>(new CommandDefinition(
            $"SELECT profile_id, type, occurred_at, CAST(properties AS TEXT) AS properties FROM events WHERE {sql.In("profile_id", "@profiles")} AND {sql.In("type", "@types")} " +
            "ORDER BY occurred_at", new { profiles = sql.List(withActions), types = sql.List(goalTypes) }, tx, cancellationToken: ct))).ToList();
        // One list of goal events per customer and type, shared by the campaigns with that goal: a goal event is attributed to one
        // of them (CampaignContributions.LastTouch), and influenced by each whose window holds it.
        var goals = goalRows.GroupBy(g => (g.ProfileId, g.Type))
            .ToDictionary(g => g.Key, g => (IReadOnlyList<GoalEvent>)g.Select(e => new GoalEvent(e.OccurredAt, Total(e.Properties))).ToList());
        var result = new Dictionary<(string ProfileId, string CampaignId), string>();
        foreach (var customer in actions.GroupBy(a => a.ProfileId, StringComparer.Ordinal))
        {
            var mine = customer.GroupBy(a => a.CampaignId, StringComparer.Ordinal).Select(g => (CampaignId: g.Key,
                Actions: (IReadOnlyList<ResultAction>)g.Select(a => new ResultAction(a.Step, a.Kind, a.Status, a.Reason, a.Holdout, a.Variant, a.TriggeredAt, a.FinishedAt)).ToList(),
                Goal: campaigns[g.Key], Events: goals.GetValueOrDefault((customer.Key, campaigns[g.Key].Event)) ?? [])).ToList();
            var winners = CampaignContributions.LastTouch(mine.Select(c => (c.CampaignId, c.Actions, c.Goal.Within, c.Events)));
            foreach (var c in mine)
                result[(customer.Key, c.CampaignId)] = CampaignContributions.Write(CampaignContributions.Of(c.Actions, c.Events, c.Goal.Within,
                    g => winners.TryGetValue(g, out var winner) && winner == c.CampaignId));
        }
        return result;
    }

    /// <summary>
    /// Applies <paramref name="now"/> for <paramref name="profileIds"/> in the write transaction, against the lists stored now
    /// (read here): the difference to the counters; a list stored for a campaign the customer no longer has actions in (or
    /// for a customer no longer in the store) ends.
    /// </summary>
    public async Task ApplyAsync(DbConnection connection, DbTransaction tx, IReadOnlyCollection<string> profileIds,
        Dictionary<(string ProfileId, string CampaignId), string> now, CancellationToken ct)
    {
        if (profileIds.Count == 0)
            return;
        var sql = database.Dialect;
        var ids = sql.List(profileIds);
        var stored = (await connection.QueryAsync<(string ProfileId, string CampaignId, string Counted)>(new CommandDefinition(
            $"SELECT profile_id, campaign_id, counted FROM results_profiles WHERE {sql.In("profile_id", "@ids")}", new { ids }, tx, cancellationToken: ct)))
            .ToDictionary(r => (r.ProfileId, r.CampaignId), r => r.Counted);
        var existing = (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT profile_id FROM profiles WHERE {sql.In("profile_id", "@ids")}", new { ids }, tx, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);
        var delta = new Dictionary<(string Campaign, string Day, string Result), (long N, decimal Revenue)>();
        void add(string campaign, string counted, int sign)
        {
            foreach (var c in CampaignContributions.Read(counted))
            {
                var (n, revenue) = delta.GetValueOrDefault((campaign, c.Day, c.Counter));
                delta[(campaign, c.Day, c.Counter)] = (n + sign * c.N, revenue + sign * c.Revenue);
            }
        }
        var upserts = new List<object?[]>();
        var deletes = new List<(string ProfileId, string CampaignId)>();
        foreach (var key in stored.Keys.Union(now.Keys))
        {
            var before = stored.GetValueOrDefault(key);
            var after = existing.Contains(key.ProfileId) ? now.GetValueOrDefault(key) : null;
            if (before == after)
                continue;
            if (before is not null)
                add(key.CampaignId, before, -1);
            if (after is not null)
            {
                add(key.CampaignId, after, +1);
                upserts.Add([key.ProfileId, key.CampaignId, after]);
            }
            else
                deletes.Add(key);
        }
        await WriteDeltaAsync(connection, tx, delta, ct);
        await BulkRows.InsertAsync(connection, tx, sql, "results_profiles", ["profile_id", "campaign_id", "counted"], upserts, ct,
            "ON CONFLICT (profile_id, campaign_id) DO UPDATE SET counted = excluded.counted");
        foreach (var (profile, campaign) in deletes)
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM results_profiles WHERE profile_id = @profile AND campaign_id = @campaign",
                new { profile, campaign }, tx, cancellationToken: ct));
    }

    Task WriteDeltaAsync(DbConnection connection, DbTransaction tx, Dictionary<(string Campaign, string Day, string Result), (long N, decimal Revenue)> delta, CancellationToken ct) =>
        BulkRows.InsertAsync(connection, tx, database.Dialect, "results_counts", CountColumns,
            delta.Where(d => d.Value.N != 0 || d.Value.Revenue != 0).Select(d => new object?[] { d.Key.Campaign, d.Key.Day, d.Key.Result, d.Value.N, d.Value.Revenue }).ToList(),
            ct, CountConflict);

    /// <summary>The profiles counted for <paramref name="campaignId"/> (a new goal recounts them).</summary>
    public async Task<IReadOnlyList<string>> CountedProfilesAsync(DbConnection connection, DbTransaction? tx, string campaignId, CancellationToken ct) =>
        (await connection.QueryAsync<string>(new CommandDefinition("SELECT profile_id FROM results_profiles WHERE campaign_id = @campaignId",
            new { campaignId }, tx, cancellationToken: ct))).ToList();

    /// <summary>An erasure: what the customer's profiles added to every campaign's results is taken out, in its transaction.</summary>
    public static async Task ForgetAsync(Database database, DbConnection connection, DbTransaction tx, IReadOnlyCollection<string> profileIds, CancellationToken ct)
    {
        var sql = database.Dialect;
        var stored = await connection.QueryAsync<(string CampaignId, string Counted)>(new CommandDefinition(
            $"SELECT campaign_id, counted FROM results_profiles WHERE {sql.In("profile_id", "@ids")}", new { ids = sql.List(profileIds) }, tx, cancellationToken: ct));
        var rows = stored.SelectMany(s => CampaignContributions.Read(s.Counted).Select(c => (s.CampaignId, c)))
            .GroupBy(x => (x.CampaignId, x.c.Day, x.c.Counter))
            .Select(g => new object?[] { g.Key.CampaignId, g.Key.Day, g.Key.Counter, -g.Sum(x => x.c.N), -g.Sum(x => x.c.Revenue) }).ToList();
        await BulkRows.InsertAsync(connection, tx, sql, "results_counts", CountColumns, rows, ct, CountConflict);
        await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM results_profiles WHERE {sql.In("profile_id", "@ids")}",
            new { ids = sql.List(profileIds) }, tx, cancellationToken: ct));
    }

    /// <param name="segment">Only the customers this condition holds for now (a named segment of the rules), or all; at most
    /// <paramref name="scanLimit"/> of the campaign's customers are judged.</param>
    public async Task<CampaignResultsView> ReadAsync(string campaignId, Goal goal, DateTimeOffset from, DateTimeOffset to, CancellationToken ct,
        Condition? segment = null, int scanLimit = 200_000)
    {
        var fromDay = FunnelContributions.Day(from);
        var toDay = FunnelContributions.Day(to.AddTicks(-1));
        await using var connection = await database.OpenAsync(ct);
        List<ResultCount> counts;
        ResultsScan? scan = null;
        if (segment is null)
            counts = (await connection.QueryAsync<(string Day, string Result, long N, decimal Revenue)>(new CommandDefinition(
                "SELECT day, result, n, revenue FROM results_counts WHERE campaign_id = @campaignId AND day >= @fromDay AND day <= @toDay",
                new { campaignId, fromDay, toDay }, cancellationToken: ct))).Select(r => new ResultCount(r.Day, r.Result, r.N, r.Revenue)).ToList();
        else
        {
            var rows = (await connection.QueryAsync<(string ProfileId, string Counted, string Traits, string? Phase, int OrderCount, decimal OrderTotal)>(new CommandDefinition(
                "SELECT r.profile_id, r.counted, CAST(p.traits AS TEXT) AS traits, p.phase, p.order_count, p.order_total FROM results_profiles r " +
                "JOIN profiles p ON p.profile_id = r.profile_id WHERE r.campaign_id = @campaignId ORDER BY r.profile_id LIMIT @limit",
                new { campaignId, limit = scanLimit + 1 }, cancellationToken: ct))).ToList();
            var complete = rows.Count <= scanLimit;
            var judged = rows.Take(scanLimit).ToList();
            var members = judged.Where(p => ConditionEvaluator.Evaluate(segment, ConditionSubject.OfCustomer(p.Traits, p.Phase, p.OrderCount, p.OrderTotal))).ToList();
            counts = members.SelectMany(m => CampaignContributions.Read(m.Counted))
                .Where(c => string.CompareOrdinal(c.Day, fromDay) >= 0 && string.CompareOrdinal(c.Day, toDay) <= 0).ToList();
            scan = new ResultsScan(judged.Count, members.Count, scanLimit, complete);
        }
        return Build(campaignId, goal, from, to, counts, scan);
    }

    static CampaignResultsView Build(string campaignId, Goal goal, DateTimeOffset from, DateTimeOffset to, IReadOnlyList<ResultCount> counts, ResultsScan? scan)
    {
        long sum(string result) => counts.Where(c => c.Counter == result).Sum(c => c.N);
        var steps = counts.Where(c => c.Counter.StartsWith("step:", StringComparison.Ordinal))
            .Select(c => (Parts: c.Counter.Split(':', 4), c.N, c.Revenue))
            .GroupBy(c => (Step: int.Parse(c.Parts[1], System.Globalization.CultureInfo.InvariantCulture), Kind: c.Parts[2]))
            .OrderBy(g => g.Key.Step)
            .Select(g =>
            {
                long of(string outcome) => g.Where(c => c.Parts[3] == outcome).Sum(c => c.N);
                Dictionary<string, long> by(string prefix) => g.Where(c => c.Parts[3].StartsWith(prefix, StringComparison.Ordinal))
                    .GroupBy(c => c.Parts[3][prefix.Length..], StringComparer.Ordinal).Where(r => r.Sum(c => c.N) != 0)
                    .OrderBy(r => r.Key, StringComparer.Ordinal).ToDictionary(r => r.Key, r => r.Sum(c => c.N));
                return new StepResult(g.Key.Step, g.Key.Kind, of("scheduled"), of("delivered"), by("suppressed:"), by("cancelled:"), of("failed"),
                    of("pending"), of("conversions"), g.Where(c => c.Parts[3] == "conversions").Sum(c => c.Revenue));
            })
            .Where(s => s.Scheduled != 0).ToList();
        var variants = counts.Where(c => c.Counter.StartsWith("treated:", StringComparison.Ordinal)).Select(c => int.Parse(c.Counter[8..], System.Globalization.CultureInfo.InvariantCulture))
            .Distinct().Order().ToList();
        var holdout = sum("holdout");
        var holdoutConverted = sum("holdout-converted");
        decimal revenueOf(string counter) => counts.Where(c => c.Counter == counter).Sum(c => c.Revenue);
        var variantResults = variants.Select(v =>
        {
            var treated = sum($"treated:{v}");
            var won = sum($"converted:{v}");
            return new VariantResult(v, treated, won, Lift.Compare(won, treated, holdoutConverted, holdout))
            {
                Attributed = sum($"attributed:{v}"), Revenue = revenueOf($"attributed:{v}"), InfluencedRevenue = revenueOf($"converted:{v}"),
            };
        }).Where(v => v.Treated != 0).ToList();
        var treatedAll = variantResults.Sum(v => v.Treated);
        var influenced = variantResults.Sum(v => v.Converted);
        var influencedRevenue = counts.Where(c => c.Counter.StartsWith("converted:", StringComparison.Ordinal)).Sum(c => c.Revenue);
        var attributed = counts.Where(c => c.Counter.StartsWith("attributed:", StringComparison.Ordinal)).ToList();
        // A/B: each variant against the first (the conversion rates of their customers, difference with its 95 % interval).
        var comparisons = variantResults.Skip(1).Select(v => new VariantComparison(v.Variant, variantResults[0].Variant,
            Lift.Compare(v.Converted, v.Treated, variantResults[0].Converted, variantResults[0].Treated, "variant " + variantResults[0].Variant))).ToList();
        return new CampaignResultsView(campaignId, new GoalView(goal.Event, Format(goal.Within)), from, to, steps,
            new CustomerResults(treatedAll, attributed.Sum(c => c.N), attributed.Sum(c => c.Revenue), holdout, holdoutConverted)
            {
                Influenced = influenced, InfluencedRevenue = influencedRevenue,
            },
            Lift.Compare(influenced, treatedAll, holdoutConverted, holdout), variantResults) { Scan = scan, VariantComparisons = comparisons };
    }

    /// <summary>A duration as the rules write it: 7d, 12h, 30m, 45s.</summary>
    static string Format(TimeSpan d) =>
        d.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(long)d.TotalDays}d"
        : d.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(long)d.TotalHours}h"
        : d.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{(long)d.TotalMinutes}m" : $"{(long)d.TotalSeconds}s";

    static decimal Total(string? properties) =>
        properties is null ? 0 : Core.Journeys.JourneyEngine.TotalOf(JsonNode.Parse(properties) as JsonObject);

    sealed class Row
    {
        public string ProfileId { get; set; } = "";
        public string CampaignId { get; set; } = "";
        public int Step { get; set; }
        public string Kind { get; set; } = "";
        public string Status { get; set; } = "";
        public string? Reason { get; set; }
        public bool Holdout { get; set; }
        public int Variant { get; set; }
        public DateTimeOffset TriggeredAt { get; set; }
        public DateTimeOffset? FinishedAt { get; set; }
    }

    sealed class GoalRow
    {
        public string ProfileId { get; set; } = "";
        public string Type { get; set; } = "";
        public DateTimeOffset OccurredAt { get; set; }
        public string? Properties { get; set; }
    }
}

/// <summary>A campaign's results: see <see cref="CampaignResults"/>.</summary>
public sealed record CampaignResultsView(string CampaignId, GoalView Goal, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<StepResult> Steps,
    CustomerResults Customers, LiftResult Lift, IReadOnlyList<VariantResult> Variants)
{
    /// <summary>With a segment: how many of the campaign's customers were judged, matched, and whether that was all of them.</summary>
    public ResultsScan? Scan { get; init; }

    /// <summary>With variants: each against the first (A against B), the difference of their conversion rates with its interval.</summary>
    public IReadOnlyList<VariantComparison> VariantComparisons { get; init; } = [];
}

/// <summary><paramref name="Variant"/> against <paramref name="Against"/>: the difference of their (influenced) conversion rates.</summary>
public sealed record VariantComparison(int Variant, int Against, LiftResult Difference);

/// <summary>A segment's scan over a campaign's customers.</summary>
public sealed record ResultsScan(int Scanned, int Matched, int Limit, bool Complete);

public sealed record GoalView(string Event, string Within);

/// <summary>One step's actions in the period by what became of them, and the conversions attributed to it.</summary>
public sealed record StepResult(int Step, string Kind, long Scheduled, long Delivered, IReadOnlyDictionary<string, long> Suppressed,
    IReadOnlyDictionary<string, long> Cancelled, long Failed, long Pending, long Conversions, decimal Revenue);

/// <summary>
/// Customers who got the campaign (a delivered step); those with a goal event attributed to this campaign alone and the revenue
/// (<paramref name="Converted"/>, <paramref name="Revenue"/>: the customer's campaigns share none, decision 0012); the holdout and its
/// conversions. <see cref="Influenced"/>: those with a goal event within the window whatever other campaigns did (what the lift
/// compares with the holdout; campaigns overlap in it).
/// </summary>
public sealed record CustomerResults(long Treated, long Converted, decimal Revenue, long Holdout, long HoldoutConverted)
{
    public long Influenced { get; init; }
    public decimal InfluencedRevenue { get; init; }
}

/// <summary>A variant's customers: <paramref name="Converted"/> influenced (as the lift counts), <see cref="Attributed"/> and its revenue.</summary>
public sealed record VariantResult(int Variant, long Treated, long Converted, LiftResult Lift)
{
    public long Attributed { get; init; }
    public decimal Revenue { get; init; }
    public decimal InfluencedRevenue { get; init; }
}
