namespace CampaignOrchestrator.Core.Events;

/// <summary>
/// The bounds an inbound event must keep (<c>Bus:Events</c>), beyond the wire contract's shape: a window of time around
/// the worker's clock, and how many and how large its traits may be. An event outside them is rejected with the reason.
/// </summary>
public sealed class EventLimits
{
    public static readonly EventLimits Default = new();

    /// <summary>Recorded history (simulate, preview): any past time is accepted.</summary>
    public static readonly EventLimits History = new() { MaxAge = TimeSpan.MaxValue };

    /// <summary>How far before the worker's clock occurredAt may be (a year-1 cart would fire its reminder at once).</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How far ahead of the worker's clock occurredAt may be.</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Most trait keys one event may carry.</summary>
    public int MaxTraits { get; set; } = 100;

    /// <summary>Largest traits object one event may carry, as published (UTF-8 bytes).</summary>
    public int MaxTraitsBytes { get; set; } = 16 * 1024;

    /// <summary>Most trait keys a customer may hold: an event that would take them past it is rejected.</summary>
    public const int MaxProfileTraits = 500;

    /// <summary>The largest amount (properties.total, cartValue, a numeric trait) accepted as a number: far beyond any order.</summary>
    public const decimal MaxAmount = 1_000_000_000_000_000m;
}
