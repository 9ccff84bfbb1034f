namespace CampaignOrchestrator.Infrastructure.Storage;

// Row shapes the Dapper statements read and write. Column names are snake_case of these.

internal sealed class ProfileRow
{
    public string ProfileId { get; set; } = "";
    public string? CustomerId { get; set; }
    public string Traits { get; set; } = "{}";
    public string TraitTimes { get; set; } = "{}";
    public string? Phase { get; set; }
    public DateTimeOffset? PhaseSince { get; set; }
    public int OrderCount { get; set; }
    public decimal OrderTotal { get; set; }
    public int EventCount { get; set; }
    public DateTimeOffset FirstSeen { get; set; }
    public DateTimeOffset LastSeen { get; set; }
    public DateTimeOffset SeenHour { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Not a column: the hour of last_seen differs from the stored one (or the profile is new).</summary>
    public bool SeenHourMoved { get; set; }

    /// <summary>Not a column: the email lookup's change, when the address changed (old and new hash, either null).</summary>
    public (string? From, string? To)? EmailMoved { get; set; }
}
