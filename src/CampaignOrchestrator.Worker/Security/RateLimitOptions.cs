namespace CampaignOrchestrator.Worker.Security;

/// <summary>
/// The <c>RateLimits</c> section: per client address, on the endpoints anybody can reach and on failed authentications.
/// A request over a limit is answered 429 with <c>Retry-After</c>. 0 turns a limit off.
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>Banner reads (<c>GET /api/placements</c>) a second from one address: a webshop's server renders many pages.</summary>
    public int PlacementsPerSecond { get; set; } = 2000;

    /// <summary>Unsubscribe page views and clicks a minute from one address.</summary>
    public int UnsubscribePerMinute { get; set; } = 30;

    /// <summary>Requests with a missing or unknown key a minute from one address; past it the address gets 429 on the API
    /// until the minute is over, whatever it sends.</summary>
    public int FailedAuthenticationsPerMinute { get; set; } = 20;
}
