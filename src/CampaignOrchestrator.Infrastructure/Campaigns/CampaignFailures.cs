using System.Collections.Concurrent;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>
/// Campaigns that failed where they are judged (planning an event's trigger, an inactivity scan, a schedule's firing) and
/// were passed over so the others go on: the event is stored and the other campaigns plan, the scan moves to the next
/// campaign. Each failure is logged as it happens; this keeps the latest per campaign, which readiness names
/// (<c>/health/ready</c>, check <c>rules</c>: degraded while a campaign failed within <see cref="Recent"/>).
/// </summary>
public sealed class CampaignFailures(TimeProvider time)
{
    /// <summary>How long a failure is reported after it last happened.</summary>
    public static readonly TimeSpan Recent = TimeSpan.FromMinutes(15);

    readonly ConcurrentDictionary<string, Failure> _byCampaign = new(StringComparer.Ordinal);

    /// <summary>The latest failure of a campaign: what it was doing, why, when, and how many times since the worker started.</summary>
    public sealed record Failure(string CampaignId, string Doing, string Reason, DateTimeOffset At, long Count);

    /// <summary>Records that <paramref name="campaignId"/> failed while <paramref name="doing"/> (e.g. <c>planning event e-1</c>).</summary>
    public void Record(string campaignId, string doing, Exception ex)
    {
        var reason = ex.GetType().Name + ": " + ex.Message;
        var at = time.GetUtcNow();
        _byCampaign.AddOrUpdate(campaignId, id => new Failure(id, doing, reason, at, 1), (_, f) => new Failure(f.CampaignId, doing, reason, at, f.Count + 1));
    }

    /// <summary>The campaigns that failed within <see cref="Recent"/>, the latest first.</summary>
    public IReadOnlyList<Failure> Current()
    {
        var since = time.GetUtcNow() - Recent;
        return _byCampaign.Values.Where(f => f.At >= since).OrderByDescending(f => f.At).ToList();
    }
}
