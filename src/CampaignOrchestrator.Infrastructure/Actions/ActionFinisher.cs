namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// What a fired action becomes and how its firing is logged: the one place both delivery paths ask — the journey
/// transaction's <see cref="ImmediateDelivery"/> (a banner due at once) and the <see cref="ActionDispatcher"/> (the rest).
/// They differ only in where the rows are written (inserted with the plan, or the claimed rows updated).
/// </summary>
internal static class ActionFinisher
{
    /// <summary>
    /// The status a channel's result makes: suppressed (not sent on purpose), deferred (a passing failure: pending again from
    /// its <see cref="ChannelResult.RetryAt"/>), delivered, or failed for good.
    /// </summary>
    public static string StatusOf(ChannelResult result) => result switch
    {
        { Suppressed: true } => ActionStatus.Suppressed,
        { RetryAt: not null } => ActionStatus.Deferred,
        { Delivered: true } => ActionStatus.Delivered,
        _ => ActionStatus.Failed,
    };

    /// <summary>
    /// The outcome log's entry for one firing: what it became at <paramref name="at"/>, fired at <paramref name="firedAt"/>
    /// (how late after its due time: a firing later than <paramref name="lateAfter"/> says so first in its reason).
    /// </summary>
    public static ActionLogRow Firing(string actionId, string campaignId, int step, string profileId, string kind, string rulesVersion, int variant,
        DateTimeOffset dueAt, long? actionSeq, string status, DateTimeOffset at, DateTimeOffset firedAt, DateTimeOffset? nextDueAt, string? detail,
        TimeSpan lateAfter)
    {
        var lag = firedAt - dueAt;
        return new ActionLogRow
        {
            ActionId = actionId, CampaignId = campaignId, Step = step, ProfileId = profileId, Kind = kind, Outcome = status, At = at, DueAt = dueAt,
            NextDueAt = nextDueAt, Reason = lag > lateAfter ? $"late: fired {lag:g} after its due time" + (string.IsNullOrEmpty(detail) ? "" : "; " + detail) : detail,
            RulesVersion = rulesVersion, Variant = variant, LateMs = (long)lag.TotalMilliseconds, ActionSeq = actionSeq,
        };
    }
}
