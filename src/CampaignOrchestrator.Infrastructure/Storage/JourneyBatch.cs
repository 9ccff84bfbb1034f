using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Journeys;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// One batch of events on its way through the journey transaction: which are new, the profiles they land on, the devices
/// they link and merge, and the phases they made customers enter. Filled by <see cref="JourneyRecords"/>, read by the
/// stages after it (campaign triggers, actions).
/// </summary>
internal sealed class JourneyBatch(IReadOnlyList<AcceptedEvent> events, DateTimeOffset now)
{
    public IReadOnlyList<AcceptedEvent> Events { get; } = events;

    public DateTimeOffset Now { get; } = now;

    /// <summary>Per event: stored now (true) or a duplicate of one stored before (false).</summary>
    public bool[] IsNew { get; } = new bool[events.Count];

    /// <summary>The new events, in batch order.</summary>
    public List<AcceptedEvent> Fresh { get; } = new(events.Count);

    /// <summary>Every profile the batch reads or writes, by profile id.</summary>
    public Dictionary<string, JourneyProfile> Profiles { get; } = new(StringComparer.Ordinal);

    /// <summary>Device → customer links, stored and new.</summary>
    public Dictionary<string, string> Links { get; } = new(StringComparer.Ordinal);

    public List<LinkRow> NewLinks { get; } = [];

    /// <summary>Device profiles merged into a customer's by this batch.</summary>
    public List<(string From, string Into)> Merges { get; } = [];

    /// <summary>Profiles whose phase history was rebuilt (late events, merges).</summary>
    public string[] ReplayedProfileIds { get; set; } = [];

    public List<PhaseHistoryRow> History { get; } = [];

    /// <summary>Phases the batch's fresh events made customers enter.</summary>
    public List<(string ProfileId, PhaseChange Change)> PhasesEntered { get; } = [];

    /// <summary>Profiles the batch changed (written back, cached).</summary>
    public HashSet<string> Touched { get; } = new(StringComparer.Ordinal);

    /// <summary>The profile an event belongs to: its customer's, its linked device's customer's, or its device's.</summary>
    public string Resolve(AcceptedEvent e) =>
        e.CustomerId is not null ? ProfileIds.ForCustomer(e.CustomerId)
        : Links.TryGetValue(e.AnonymousId!, out var customerId) ? ProfileIds.ForCustomer(customerId)
        : ProfileIds.ForAnonymous(e.AnonymousId!);

    public JourneyProfile GetOrCreate(string profileId)
    {
        if (!Profiles.TryGetValue(profileId, out var profile))
        {
            var customerId = profileId.StartsWith("c:", StringComparison.Ordinal) ? profileId[2..] : null;
            Profiles[profileId] = profile = new JourneyProfile(profileId, customerId);
        }
        return profile;
    }

    /// <summary>The fresh events with the profile each landed on.</summary>
    public IReadOnlyList<StoredEvent> Stored => field ??= Fresh.Select(e => new StoredEvent(e, Resolve(e))).ToList();

    /// <summary>Merged device profile → customer profile, or null when the batch merged none.</summary>
    public IReadOnlyDictionary<string, string>? MergedInto =>
        Merges.Count == 0 ? null : field ??= Merges.ToDictionary(m => m.From, m => m.Into, StringComparer.Ordinal);

    public BatchResult Result => new(IsNew);
}
