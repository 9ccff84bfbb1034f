namespace CampaignOrchestrator.Worker.Security;

/// <summary>
/// The roles an API key has, each a policy of its own: <c>viewer</c> reads journeys, campaigns, rules and metrics;
/// <c>marketer</c> also validates and uploads rules and cancels pending actions; <c>admin</c> also works the error
/// queue, erases and exports customers and reads the audit log; <c>placement</c> reads placements only (the webshop).
/// </summary>
internal static class ApiRoles
{
    public const string Viewer = "viewer";
    public const string Marketer = "marketer";
    public const string Admin = "admin";
    public const string Placement = "placement";

    public static readonly string[] All = [Admin, Marketer, Viewer, Placement];

    /// <summary>The roles that pass <paramref name="policy"/>: a higher role has every right of a lower one.</summary>
    public static string[] Granting(string policy) => policy switch
    {
        Viewer => [Viewer, Marketer, Admin],
        Marketer => [Marketer, Admin],
        Admin => [Admin],
        Placement => [Placement, Admin],
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "no such role"),
    };
}
