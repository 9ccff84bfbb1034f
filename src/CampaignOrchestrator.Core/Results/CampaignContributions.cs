using System.Globalization;

namespace CampaignOrchestrator.Core.Results;

/// <summary>One of a customer's actions in a campaign, as the results count it.</summary>
public sealed record ResultAction(int Step, string Kind, string Status, string? Reason, bool Holdout, int Variant, DateTimeOffset TriggeredAt, DateTimeOffset? FinishedAt);

/// <summary>A goal event of the customer's, with the revenue it carries (<c>properties.total</c>).</summary>
public sealed record GoalEvent(DateTimeOffset OccurredAt, decimal Total);

/// <summary>One kept result counter of a campaign: a UTC day, what is counted, how many and the revenue with it.</summary>
public readonly record struct ResultCount(string Day, string Counter, long N, decimal Revenue);

/// <summary>
/// What one customer adds to a campaign's kept results (docs/decisions/0008-campaign-attribution.md): each action by step and
/// what became of it (by the day it was triggered), whether they were treated (a delivered step) and converted, the goal events
/// attributed to the campaign's last delivered step before them within the goal's window (count and revenue, on that step),
/// and as holdout whether they converted within the window after their first step would have been delivered. Pure: the counting job stores the list per
/// customer and campaign and applies the difference when it changes.
/// </summary>
public static class CampaignContributions
{
    public const string Delivered = "delivered", Suppressed = "suppressed", Cancelled = "cancelled", Failed = "failed", Pending = "pending", Claimed = "claimed";

    /// <param name="owns">Whether a goal event is attributed to this campaign alone (<see cref="LastTouch"/>); null: none is.</param>
    public static IEnumerable<ResultCount> Of(IReadOnlyList<ResultAction> actions, IReadOnlyList<GoalEvent> goals, TimeSpan within,
        Func<GoalEvent, bool>? owns = null)
    {
        foreach (var a in actions)
        {
            var day = FunnelContributions.Day(a.TriggeredAt);
            var step = $"step:{a.Step}:{a.Kind}:";
            yield return new ResultCount(day, step + "scheduled", 1, 0);
            yield return new ResultCount(day, step + a.Status switch
            {
                Delivered => "delivered",
                Suppressed => "suppressed:" + Clean(a.Holdout ? "holdout" : (a.Reason ?? "unknown").Replace("suppressed: ", "", StringComparison.Ordinal)),
                Cancelled => "cancelled:" + CancelReason(a.Reason),
                Failed => "failed",
                _ => "pending",
            }, 1, 0);
        }

        var delivered = actions.Where(a => !a.Holdout && a.Status == Delivered && a.FinishedAt is not null).OrderBy(a => a.FinishedAt).ToList();
        if (delivered.Count > 0)
        {
            var firstDay = FunnelContributions.Day(delivered[0].TriggeredAt);
            var variant = delivered[0].Variant.ToString(CultureInfo.InvariantCulture);
            var converted = false;
            var revenue = 0m;
            var attributed = false;
            var attributedRevenue = 0m;
            foreach (var g in goals)
            {
                var last = delivered.LastOrDefault(d => d.FinishedAt < g.OccurredAt);
                if (last is null || g.OccurredAt > last.FinishedAt + within)
                    continue;
                converted = true;
                revenue += g.Total;
                yield return new ResultCount(FunnelContributions.Day(last.TriggeredAt), $"step:{last.Step}:{last.Kind}:conversions", 1, g.Total);
                if (owns?.Invoke(g) == true)
                {
                    attributed = true;
                    attributedRevenue += g.Total;
                }
            }
            yield return new ResultCount(firstDay, "treated:" + variant, 1, 0);
            // converted: influenced (a goal within the window, whatever other campaigns did; what the lift compares);
            // attributed: the goals this campaign won over the customer's other campaigns (decision 0012).
            if (converted)
                yield return new ResultCount(firstDay, "converted:" + variant, 1, revenue);
            if (attributed)
                yield return new ResultCount(firstDay, "attributed:" + variant, 1, attributedRevenue);
        }

        // The holdout's window starts when its first step would have been delivered (the held-out action is judged then),
        // as the treated side's starts at a delivery: an order placed before a first reminder counts on neither side.
        var held = actions.Where(a => a.Holdout).GroupBy(a => a.TriggeredAt)
            .Select(g => (Trigger: g.Key, From: g.Min(a => a.FinishedAt) ?? g.Key)).OrderBy(h => h.Trigger).ToList();
        if (held.Count > 0)
        {
            var day = FunnelContributions.Day(held[0].Trigger);
            yield return new ResultCount(day, "holdout", 1, 0);
            if (goals.Any(g => held.Any(h => g.OccurredAt > h.From && g.OccurredAt <= h.From + within)))
                yield return new ResultCount(day, "holdout-converted", 1, 0);
        }
    }

    /// <summary>
    /// One campaign per goal event (decision 0012): of the customer's campaigns whose goal is that event's type, the one whose
    /// last delivered step before it is the latest, when the event falls within that campaign's window; ties to the campaign
    /// id first in order. Returns the winner of each event (by reference), or none.
    /// </summary>
    public static Dictionary<GoalEvent, string> LastTouch(IEnumerable<(string CampaignId, IReadOnlyList<ResultAction> Actions, TimeSpan Within, IReadOnlyList<GoalEvent> Goals)> campaigns)
    {
        var best = new Dictionary<GoalEvent, (DateTimeOffset At, string CampaignId)>(ReferenceEqualityComparer.Instance);
        foreach (var (campaignId, actions, within, goals) in campaigns)
        {
            var delivered = actions.Where(a => !a.Holdout && a.Status == Delivered && a.FinishedAt is not null).Select(a => a.FinishedAt!.Value).Order().ToList();
            if (delivered.Count == 0)
                continue;
            foreach (var g in goals)
            {
                var last = delivered.LastOrDefault(at => at < g.OccurredAt);
                if (last == default || g.OccurredAt > last + within)
                    continue;
                if (!best.TryGetValue(g, out var current) || last > current.At || (last == current.At && string.CompareOrdinal(campaignId, current.CampaignId) < 0))
                    best[g] = (last, campaignId);
            }
        }
        var winners = new Dictionary<GoalEvent, string>(ReferenceEqualityComparer.Instance);
        foreach (var (goal, (_, campaignId)) in best)
            winners[goal] = campaignId;
        return winners;
    }

    static string CancelReason(string? reason) => reason switch
    {
        null => "other",
        _ when reason.StartsWith("exit:", StringComparison.Ordinal) => "exit",
        _ when reason.StartsWith("operator:", StringComparison.Ordinal) => "operator",
        _ => "other",
    };

    /// <summary>A reason as a counter's name can hold it (the stored lists separate with '|' and ';').</summary>
    static string Clean(string reason) => reason.Replace('|', ' ').Replace(';', ' ');

    /// <summary>The stored form of a list: <c>day|counter|n|revenue</c> joined by ';'.</summary>
    public static string Write(IEnumerable<ResultCount> counts) => string.Join(';', counts.Select(c =>
        $"{c.Day}|{c.Counter}|{c.N.ToString(CultureInfo.InvariantCulture)}|{c.Revenue.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>Reads <see cref="Write"/>.</summary>
    public static IEnumerable<ResultCount> Read(string? text) => string.IsNullOrEmpty(text) ? [] : text.Split(';').Select(item =>
    {
        var p = item.Split('|');
        return new ResultCount(p[0], p[1], long.Parse(p[2], CultureInfo.InvariantCulture), decimal.Parse(p[3], CultureInfo.InvariantCulture));
    });
}
