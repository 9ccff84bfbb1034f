namespace CampaignOrchestrator.Core.Rules;

/// <summary>One campaign: a trigger, who qualifies, and the ordered steps; <see cref="Goal"/>: what counts as its conversion.</summary>
public sealed record Campaign(
    string Id,
    string? Description,
    Trigger Trigger,
    string? Key,
    Condition? Conditions,
    IReadOnlyList<string> ExitOn,
    TimeSpan? ReentryAfter,
    double HoldoutShare,
    int Priority,
    bool Transactional,
    ChangeBehaviour OnChange,
    IReadOnlyList<Step> Steps)
{
    public Goal Goal { get; init; } = Goal.Default;
}
