namespace CampaignOrchestrator.Core.Rules;

/// <summary>
/// The bounds every rules file is held to (docs/rules.md, "Limits"), so whatever passes validation also runs: a due time,
/// an expiry or a look-back computed from a duration stays a date, and the work an event costs stays bounded. The YAML
/// itself (size, nesting, aliases) is bounded before it is read: <see cref="YamlLimits"/>.
/// </summary>
public static class RuleLimits
{
    /// <summary>The longest duration anywhere, unless its key has a shorter bound below: two years.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(730);

    /// <summary>The longest a step may wait after its trigger (<c>delay</c>): a year.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(365);

    /// <summary>The longest a banner may stay (<c>ttl</c>), an offer stay valid (<c>validFor</c>), a frequency cap look back
    /// (<c>per</c>): a year.</summary>
    public static readonly TimeSpan MaxValidity = TimeSpan.FromDays(365);

    /// <summary>The longest a cart may wait before it counts as abandoned (<c>derive.cartAbandoned.after</c>): 30 days.</summary>
    public static readonly TimeSpan MaxCartAbandonedAfter = TimeSpan.FromDays(30);

    /// <summary>Campaigns in one rule set (all files together). Every event is judged against each event and phase campaign:
    /// 5,000 immediate campaigns made events 500 times slower.</summary>
    public const int MaxCampaigns = 250;

    /// <summary>Steps in one campaign.</summary>
    public const int MaxSteps = 25;

    /// <summary>Variants in one step.</summary>
    public const int MaxVariants = 10;

    /// <summary>Comparisons in one campaign's conditions (or one segment), however grouped.</summary>
    public const int MaxComparisons = 100;

    /// <summary>Values in one <c>in</c> / <c>notIn</c> list.</summary>
    public const int MaxListValues = 1000;

    /// <summary>The largest fixed offer <c>amount</c>, in the shop's currency.</summary>
    public const decimal MaxOfferAmount = 1_000_000;

    /// <summary>The bounds of a duration under <paramref name="key"/> (as the files name it): the shortest and the longest.</summary>
    public static (TimeSpan Min, TimeSpan Max) DurationBounds(string key) => key switch
    {
        "delay" => (TimeSpan.Zero, MaxDelay),
        "ttl" or "validFor" or "per" => (TimeSpan.FromMinutes(1), MaxValidity),
        "cartAbandoned.after" => (TimeSpan.FromMinutes(1), MaxCartAbandonedAfter),
        "within" => (TimeSpan.FromSeconds(1), Goal.MaxWithin),
        _ => (TimeSpan.FromSeconds(1), MaxDuration),
    };

    /// <summary>A duration for messages: <c>365d</c>, <c>1m</c>, <c>0s</c>.</summary>
    public static string Describe(TimeSpan duration) =>
        duration == TimeSpan.Zero ? "0s"
        : duration.TotalDays >= 1 && duration.TotalDays % 1 == 0 ? $"{duration.TotalDays:0}d"
        : duration.TotalHours >= 1 && duration.TotalHours % 1 == 0 ? $"{duration.TotalHours:0}h"
        : duration.TotalMinutes >= 1 && duration.TotalMinutes % 1 == 0 ? $"{duration.TotalMinutes:0}m"
        : $"{duration.TotalSeconds:0}s";
}
