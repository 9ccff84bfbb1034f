namespace CampaignOrchestrator.Worker.Api;

/// <summary>
/// The <c>Http</c> section: where the worker listens. The operator API (and later <c>/metrics</c> and the dashboard)
/// listens on <see cref="Urls"/>; what customers and webshops must reach (<c>/unsubscribe</c>, <c>/api/placements</c>)
/// may get a listener of its own, <see cref="PublicUrls"/>, which then serves nothing else.
/// </summary>
public sealed class HttpOptions
{
    public const string SectionName = "Http";

    /// <summary>The operator address(es), <c>;</c>-separated. Default: loopback only.</summary>
    public string Urls { get; set; } = OperatorApi.DefaultUrls;

    /// <summary>The public address(es), each with an explicit port; empty: the public endpoints are served on <see cref="Urls"/>.</summary>
    public string PublicUrls { get; set; } = "";

    /// <summary>The largest request body taken: a larger one is refused with 413 before it is read.</summary>
    public long MaxRequestBodyBytes { get; set; } = OperatorApi.DefaultMaxRequestBodyBytes;

    /// <summary>Behind a reverse proxy (on loopback): take the client address and scheme from <c>X-Forwarded-For</c> and
    /// <c>X-Forwarded-Proto</c> (rate limits are then per real client). Off by default: a direct client could forge them.</summary>
    public bool BehindProxy { get; set; }

    internal IReadOnlyList<Uri> PublicAddresses => Parse(PublicUrls);

    internal static IReadOnlyList<Uri> Parse(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => Uri.TryCreate(u.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri) ? uri : null!)
            .ToList();
}
