using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Journeys;

/// <summary>
/// A customer's (or an unlinked device's) journey state as the store keeps it: traits merged
/// per key by occurredAt, the current phase, order count and seen-range. The timeline and the
/// full phase history stay in the store; this carries only what one batch changes.
/// </summary>
public sealed class JourneyProfile(string profileId, string? customerId)
{
    /// <summary>See <see cref="ProfileIds"/>.</summary>
    public string ProfileId { get; } = profileId;

    /// <summary>The known account, null for an unlinked device.</summary>
    public string? CustomerId { get; } = customerId;

    /// <summary>Trait values; the newest occurredAt wins per key.</summary>
    public Dictionary<string, JsonNode?> Traits { get; init; } = new(StringComparer.Ordinal);

    /// <summary>When each trait was last set (the occurredAt of the event that set it).</summary>
    public Dictionary<string, DateTimeOffset> TraitTimes { get; init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The store's serialized <see cref="Traits"/> and <see cref="TraitTimes"/> (JSON) as last read or
    /// written; null when unknown or changed since. Most events carry no traits, so a profile saved
    /// again after them reuses these instead of serializing its traits anew.
    /// </summary>
    public (string Traits, string TraitTimes)? StoredTraitsJson { get; set; }

    /// <summary>The current phase; null until an event maps to one.</summary>
    public Phase? Phase { get; set; }

    /// <summary>When the current phase was entered.</summary>
    public DateTimeOffset? PhaseSince { get; set; }

    /// <summary>How many order_placed events the timeline holds.</summary>
    public int OrderCount { get; set; }

    /// <summary>The sum of the orders' <c>properties.total</c> (orders without a numeric total add nothing).</summary>
    public decimal OrderTotal { get; set; }

    /// <summary>Number of events on the timeline.</summary>
    public int EventCount { get; set; }

    /// <summary>Earliest occurredAt on the timeline.</summary>
    public DateTimeOffset FirstSeen { get; set; }

    /// <summary>Latest occurredAt on the timeline.</summary>
    public DateTimeOffset LastSeen { get; set; }

    /// <summary>
    /// The <see cref="LastSeen"/> the store holds (as last read or written); null for a profile not stored yet.
    /// The store rewrites its activity index only when the hour of <see cref="LastSeen"/> moved.
    /// </summary>
    public DateTimeOffset? StoredLastSeen { get; set; }

    /// <summary>
    /// The <see cref="EmailHash"/> of the <c>email</c> trait the store's lookup by email holds for this profile (as last
    /// read or written); null without an address. The lookup is rewritten only when the address changed.
    /// </summary>
    public string? StoredEmailSha256 { get; set; }

    /// <summary>Phase changes appended in this unit of work (in-order events only).</summary>
    public List<PhaseChange> AppendedPhaseChanges { get; } = [];

    /// <summary>
    /// True when a late event (or a merge) changed the past: the phase history must be replayed
    /// from the whole timeline instead of appended to.
    /// </summary>
    public bool NeedsPhaseReplay { get; set; }
}
