namespace CampaignOrchestrator.Core.Results;

/// <summary>
/// One kept funnel counter: what one customer adds to the funnel, or (with <see cref="N"/>) what many did.
/// <see cref="Kind"/> says what is counted; <see cref="Day"/> is the UTC day the counted entry happened
/// (<c>yyyy-MM-dd</c>, empty for <see cref="FunnelCountKind.Now"/>).
/// </summary>
/// <param name="Phase">The phase (1-5, <see cref="Phases.Phase"/>) or, for a micro-conversion, the step (0-3).</param>
/// <param name="Other">For an entry the phase it came from (0: none); for a conversion the phase it went on to.</param>
/// <param name="Bucket">For a conversion, the <see cref="FunnelContributions.Buckets"/> index of the time it took.</param>
public readonly record struct FunnelCount(FunnelCountKind Kind, string Day, bool Cross, int Phase, int Other, int Bucket, long N = 1)
{
    /// <summary>The counter's identity, without <see cref="N"/>: what a customer's stored contribution list holds.</summary>
    public string Key => $"{(int)Kind}|{Day}|{(Cross ? 1 : 0)}|{Phase}|{Other}|{Bucket}";

    /// <summary>Reads a <see cref="Key"/>.</summary>
    public static FunnelCount FromKey(string key, long n = 1)
    {
        var p = key.Split('|');
        return new((FunnelCountKind)int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), p[1], p[2] == "1",
            int.Parse(p[3], System.Globalization.CultureInfo.InvariantCulture), int.Parse(p[4], System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(p[5], System.Globalization.CultureInfo.InvariantCulture), n);
    }
}

/// <summary>What a <see cref="FunnelCount"/> counts.</summary>
public enum FunnelCountKind
{
    /// <summary>A customer entered a phase (on that day, from another).</summary>
    Entry = 0,

    /// <summary>A customer who entered a phase that day went on to a later one.</summary>
    Converted = 1,

    /// <summary>A customer is in the phase now.</summary>
    Now = 2,

    /// <summary>A customer whose first product view was that day reached micro-conversion step <see cref="FunnelCount.Phase"/>.</summary>
    Micro = 3,
}
