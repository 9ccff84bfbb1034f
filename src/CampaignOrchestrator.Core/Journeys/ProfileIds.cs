namespace CampaignOrchestrator.Core.Journeys;

/// <summary>
/// Profile keys. A known customer's profile is <c>c:{customerId}</c>; a device nobody has logged in
/// on yet has <c>a:{anonymousId}</c> until an event links it to a customer, when it merges into theirs.
/// </summary>
public static class ProfileIds
{
    /// <summary>The profile key of a known customer.</summary>
    public static string ForCustomer(string customerId) => "c:" + customerId;

    /// <summary>The profile key of a device not (yet) linked to a customer.</summary>
    public static string ForAnonymous(string anonymousId) => "a:" + anonymousId;
}
