namespace CampaignOrchestrator.Core.Rules;

/// <summary>One campaign: a trigger, who qualifies, and the ordered steps.</summary>
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
    IReadOnlyList<Step> Steps);
