namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>A profile a lookup found: read it whole with <c>GET /api/customers/{customerId ?? profileId[2..]}</c>.</summary>
public sealed class CustomerMatch
{
    public string ProfileId { get; set; } = "";
    public string? CustomerId { get; set; }

    /// <summary>The device's id when the profile is a device not yet tied to a customer.</summary>
    public string? AnonymousId => CustomerId is null && ProfileId.StartsWith("a:", StringComparison.Ordinal) ? ProfileId[2..] : null;
    public string? Phase { get; set; }
    public DateTimeOffset LastSeen { get; set; }
}
