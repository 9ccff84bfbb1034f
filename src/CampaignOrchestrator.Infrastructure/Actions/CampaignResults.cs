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
/// Attribution (docs/decisions/0008-campaign-attribution.md): a goal event is attributed to the campaign's last delivered
/// step before it, when it falls within the goal's window after that step; each goal event counts once.
/// The period is the one the campaigns were triggered in. This version reads the campaign's actions and the goal events of
/// its customers (one indexed read per customer); kept counters come with the funnel.
/// </summary>
internal sealed class CampaignResults(Database database)
{
    /// <param name="segment">Only the customers this condition holds for now (a named segment of the rules), or all.</param>
    public async Task<CampaignResultsView> ReadAsync(string campaignId, Goal goal, DateTimeOffset from, DateTimeOffset to, CancellationToken ct,
        Condition? segment = null)
    {
        await using var connection = await database.OpenAsync(ct);
        var actions = (await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT profile_id, step, kind, status, reason, holdout, variant, triggered_at, finished_at FROM scheduled_actions " +
            "WHERE campaign_id = @campaignId AND triggered_at >= @from AND triggered_at < @to",
            new { campaignId, from, to }, cancellationToken: ct))).ToList();
        if (segment is not null)
        {
            var ids = actions.Select(a => a.ProfileId).Distinct(StringComparer.Ordinal).ToArray();
            var members = ids.Length == 0 ? [] : (await connection.QueryAsync<(string ProfileId, string Traits, string? Phase, int OrderCount, decimal OrderTotal)>(
                new CommandDefinition($"SELECT profile_id, CAST(traits AS TEXT) AS traits, phase, order_count, order_total FROM profiles WHERE {database.Dialect.In("profile_id", "@ids")}",
                    new { ids = database.Dialect.List(ids) }, cancellationToken: ct)))
                .Where(p => ConditionEvaluator.Evaluate(segment, new ConditionSubject(
                    (JsonNode.Parse(p.Traits) as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [], null, null,
                    Core.Phases.PhaseNames.TryParse(p.Phase, out var phase) ? phase : null, p.OrderCount, p.OrderTotal)))
                .Select(p => p.ProfileId).ToHashSet(StringComparer.Ordinal);
            actions = actions.Where(a => members.Contains(a.ProfileId)).ToList();
        }

        var delivered = actions.Where(a => !a.Holdout && a.Status == ActionStatus.Delivered && a.FinishedAt is not null)
            .GroupBy(a => a.ProfileId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(a => a.FinishedAt).ToList(), StringComparer.Ordinal);
        var holdout = actions.Where(a => a.Holdout).GroupBy(a => a.ProfileId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(a => a.TriggeredAt).Distinct().Order().ToList(), StringComparer.Ordinal);

        var profiles = delivered.Keys.Concat(holdout.Keys).ToArray();
        var goals = profiles.Length == 0 ? [] : (await connection.QueryAsync<GoalRow>(new CommandDefinition(
            $"SELECT profile_id, event_id, occurred_at, CAST(properties AS TEXT) AS properties FROM events WHERE type = @type AND occurred_at > @from " +
            $"AND occurred_at <= @until AND {database.Dialect.In("profile_id", "@profiles")}",
            new { type = goal.Event, from, until = to + goal.Within, profiles = database.Dialect.List(profiles) }, cancellationToken: ct))).ToList();
        var goalsByProfile = goals.ToLookup(g => g.ProfileId, StringComparer.Ordinal);

        // Treated: each goal event to the campaign's last delivered step before it, within the window.
        var stepConversions = new Dictionary<int, (long Count, decimal Revenue)>();
        var converted = new HashSet<string>(StringComparer.Ordinal);
        var revenue = 0m;
        foreach (var (profile, deliveries) in delivered)
            foreach (var g in goalsByProfile[profile])
            {
                var last = deliveries.LastOrDefault(d => d.FinishedAt < g.OccurredAt);
                if (last is null || g.OccurredAt > last.FinishedAt + goal.Within)
                    continue;
                var total = Total(g.Properties);
                converted.Add(profile);
                revenue += total;
                var (count, sum) = stepConversions.GetValueOrDefault(last.Step);
                stepConversions[last.Step] = (count + 1, sum + total);
            }
        // Holdout: a goal event within the window after the trigger.
        var holdoutConverted = holdout.Count(h => goalsByProfile[h.Key].Any(g => h.Value.Any(t => g.OccurredAt > t && g.OccurredAt <= t + goal.Within)));

        var steps = actions.GroupBy(a => (a.Step, a.Kind)).OrderBy(g => g.Key.Step).Select(g =>
            {
                var (count, sum) = stepConversions.GetValueOrDefault(g.Key.Step);
                return new StepResult(g.Key.Step, g.Key.Kind, g.LongCount(), g.LongCount(a => a.Status == ActionStatus.Delivered),
                    g.Where(a => a.Status == ActionStatus.Suppressed).GroupBy(a => SuppressionReason(a)).OrderBy(r => r.Key, StringComparer.Ordinal)
                        .ToDictionary(r => r.Key, r => r.LongCount()),
                    g.Where(a => a.Status == ActionStatus.Cancelled).GroupBy(a => CancelReason(a.Reason)).OrderBy(r => r.Key, StringComparer.Ordinal)
                        .ToDictionary(r => r.Key, r => r.LongCount()),
                    g.LongCount(a => a.Status == ActionStatus.Failed), g.LongCount(a => a.Status is ActionStatus.Pending or ActionStatus.Claimed), count, sum);
            }).ToList();

        // Per variant: a customer's variant is that of their first delivered step.
        var variants = delivered.GroupBy(d => d.Value[0].Variant).OrderBy(v => v.Key).Select(v =>
        {
            var treated = v.LongCount();
            var won = v.LongCount(d => converted.Contains(d.Key));
            return new VariantResult(v.Key, treated, won, Lift.Compare(won, treated, holdoutConverted, holdout.Count));
        }).ToList();

        return new CampaignResultsView(campaignId, new GoalView(goal.Event, Format(goal.Within)), from, to, steps,
            new CustomerResults(delivered.Count, converted.Count, revenue, holdout.Count, holdoutConverted),
            Lift.Compare(converted.Count, delivered.Count, holdoutConverted, holdout.Count), variants);
    }

    /// <summary>A duration as the rules write it: 7d, 12h, 30m, 45s.</summary>
    static string Format(TimeSpan d) =>
        d.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(long)d.TotalDays}d"
        : d.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(long)d.TotalHours}h"
        : d.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{(long)d.TotalMinutes}m" : $"{(long)d.TotalSeconds}s";

    static string SuppressionReason(Row a) => a.Holdout ? "holdout" : (a.Reason ?? "unknown").Replace("suppressed: ", "", StringComparison.Ordinal);

    static string CancelReason(string? reason) => reason switch
    {
        null => "other",
        _ when reason.StartsWith("exit:", StringComparison.Ordinal) => "exit",
        _ when reason.StartsWith("operator:", StringComparison.Ordinal) => "operator",
        _ => "other",
    };

    static decimal Total(string? properties) =>
        properties is null ? 0 : Core.Journeys.JourneyEngine.TotalOf(JsonNode.Parse(properties) as JsonObject);

    sealed class Row
    {
        public string ProfileId { get; set; } = "";
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
        public string EventId { get; set; } = "";
        public DateTimeOffset OccurredAt { get; set; }
        public string? Properties { get; set; }
    }
}

/// <summary>A campaign's results: see <see cref="CampaignResults"/>.</summary>
public sealed record CampaignResultsView(string CampaignId, GoalView Goal, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<StepResult> Steps,
    CustomerResults Customers, LiftResult Lift, IReadOnlyList<VariantResult> Variants);

public sealed record GoalView(string Event, string Within);

/// <summary>One step's actions in the period by what became of them, and the conversions attributed to it.</summary>
public sealed record StepResult(int Step, string Kind, long Scheduled, long Delivered, IReadOnlyDictionary<string, long> Suppressed,
    IReadOnlyDictionary<string, long> Cancelled, long Failed, long Pending, long Conversions, decimal Revenue);

/// <summary>Customers who got the campaign (a delivered step), converted, the revenue attributed; the holdout and its conversions.</summary>
public sealed record CustomerResults(long Treated, long Converted, decimal Revenue, long Holdout, long HoldoutConverted);

public sealed record VariantResult(int Variant, long Treated, long Converted, LiftResult Lift);
