namespace CampaignOrchestrator.Core.Rules;

/// <summary>
/// What counts as a campaign's conversion (<c>goal: { event: order_placed, within: 7d }</c>): an event of
/// <see cref="Event"/> from the customer within <see cref="Within"/> after a delivered step (for the holdout, after the
/// trigger). Campaign results and the lift over the holdout are measured against it.
/// </summary>
public sealed record Goal(string Event, TimeSpan Within)
{
    /// <summary>An order within 7 days, when a campaign names no goal.</summary>
    public static readonly Goal Default = new("order_placed", TimeSpan.FromDays(7));

    /// <summary>The longest window a goal may have.</summary>
    public static readonly TimeSpan MaxWithin = TimeSpan.FromDays(365);
}
