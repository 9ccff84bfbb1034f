namespace CampaignOrchestrator.Core.Phases;

/// <summary>Lower-case phase names as they appear in JSON, the store and rules files.</summary>
public static class PhaseNames
{
    /// <summary>The wire and storage name of a phase, e.g. <c>consideration</c>.</summary>
    public static string ToName(this Phase phase) => phase switch
    {
        Phase.Awareness => "awareness",
        Phase.Consideration => "consideration",
        Phase.Purchase => "purchase",
        Phase.Retention => "retention",
        Phase.Loyalty => "loyalty",
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, "unknown phase"),
    };

    /// <summary>Parses a name written by <see cref="ToName"/>, or one of the model aliases
    /// (touch, tell, sell, care, see, think, do, reach, act, convert, engage, service, advocacy).</summary>
    public static bool TryParse(string? name, out Phase phase)
    {
        phase = name?.ToLowerInvariant() switch
        {
            "awareness" or "touch" or "see" or "reach" => Phase.Awareness,
            "consideration" or "tell" or "think" or "act" => Phase.Consideration,
            "purchase" or "sell" or "do" or "convert" => Phase.Purchase,
            "retention" or "care" or "service" or "engage" => Phase.Retention,
            "loyalty" or "advocacy" => Phase.Loyalty,
            _ => 0,
        };
        return phase != 0;
    }
}
