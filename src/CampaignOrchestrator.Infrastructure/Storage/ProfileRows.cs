using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>A profile between its row (<see cref="ProfileRow"/>) and the journey engine's <see cref="JourneyProfile"/>.</summary>
internal static class ProfileRows
{
    public static JourneyProfile FromRow(ProfileRow row)
    {
        var traits = JsonNode.Parse(row.Traits) as JsonObject ?? [];
        var times = JsonSerializer.Deserialize<Dictionary<string, DateTimeOffset>>(row.TraitTimes) ?? [];
        var profile = new JourneyProfile(row.ProfileId, row.CustomerId)
        {
            Phase = PhaseNames.TryParse(row.Phase, out var phase) ? phase : null,
            PhaseSince = row.PhaseSince,
            OrderCount = row.OrderCount,
            OrderTotal = row.OrderTotal,
            EventCount = row.EventCount,
            FirstSeen = row.FirstSeen,
            LastSeen = row.LastSeen,
            StoredLastSeen = row.LastSeen,
            StoredTraitsJson = (row.Traits, row.TraitTimes),
            StoredEmailSha256 = EmailSha256(traits),
        };
        foreach (var (key, value) in traits.ToList())
        {
            traits.Remove(key);
            profile.Traits[key] = value;
        }
        foreach (var (key, at) in times)
            profile.TraitTimes[key] = at;
        return profile;
    }

    public static ProfileRow ToRow(JourneyProfile profile, DateTimeOffset now)
    {
        // Traits unchanged since read or written (most events): the address is too, and the lookup by email stays.
        (string? From, string? To)? emailMoved = null;
        if (profile.StoredTraitsJson is null && EmailSha256(profile.Traits) is var hash && hash != profile.StoredEmailSha256)
        {
            emailMoved = (profile.StoredEmailSha256, hash);
            profile.StoredEmailSha256 = hash;   // a failed transaction drops the batch's profiles (and the cache)
        }
        var (traitsJson, timesJson) = profile.StoredTraitsJson ??= SerializeTraits(profile);
        return new ProfileRow
        {
            ProfileId = profile.ProfileId,
            CustomerId = profile.CustomerId,
            Traits = traitsJson,
            TraitTimes = timesJson,
            Phase = profile.Phase?.ToName(),
            PhaseSince = profile.PhaseSince,
            OrderCount = profile.OrderCount,
            OrderTotal = profile.OrderTotal,
            EventCount = profile.EventCount,
            FirstSeen = profile.FirstSeen,
            LastSeen = profile.LastSeen,
            SeenHour = SeenHour(profile.LastSeen),
            SeenHourMoved = profile.StoredLastSeen is not { } stored || SeenHour(stored) != SeenHour(profile.LastSeen),
            EmailMoved = emailMoved,
            UpdatedAt = now,
        };
    }

    /// <summary>
    /// The hour (UTC) of a last_seen: what the inactivity scan's index holds, so that index changes once per hour of
    /// activity instead of with every event (docs/benchmarks.md: the per-event last_seen index cost 12-17 % of SQLite's rate).
    /// </summary>
    public static DateTimeOffset SeenHour(DateTimeOffset lastSeen)
    {
        var utc = lastSeen.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>The hash of the <c>email</c> trait (<see cref="EmailHash"/>), null without one.</summary>
    public static string? EmailSha256(IEnumerable<KeyValuePair<string, JsonNode?>> traits)
    {
        JsonNode? value = null;
        if (traits is IDictionary<string, JsonNode?> d)
            d.TryGetValue("email", out value);
        else
            value = traits.FirstOrDefault(t => t.Key == "email").Value;
        return value is JsonValue v && v.GetValueKind() == JsonValueKind.String && ((string)v!).Trim().Length > 0 ? EmailHash.Of((string)v!) : null;
    }

    static (string Traits, string TraitTimes) SerializeTraits(JourneyProfile profile)
    {
        var traits = new JsonObject();
        foreach (var (key, value) in profile.Traits)
            traits[key] = value?.DeepClone();
        var times = profile.TraitTimes.ToDictionary(kv => kv.Key, kv => kv.Value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        return (traits.ToJsonString(), JsonSerializer.Serialize(times));
    }
}
