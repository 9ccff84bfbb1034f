namespace CampaignOrchestrator.Worker.Api;

/// <summary>
/// Keeps the public listener (<see cref="HttpOptions.PublicUrls"/>) to what customers and webshops need: on its ports only
/// <c>/unsubscribe</c>, <c>/api/placements</c> and <c>/health/live</c> answer (anything else is 404, as if it did not
/// exist), so exposing the unsubscribe page exposes nothing else. With no public listener, nothing changes.
/// </summary>
internal static class PublicListener
{
    static readonly string[] PublicPaths = ["/unsubscribe", "/api/placements", "/health/live"];

    public static WebApplication UsePublicListener(this WebApplication app, HttpOptions options)
    {
        var ports = options.PublicAddresses.Select(u => u.Port).ToHashSet();
        if (ports.Count == 0)
            return app;
        app.Use(async (http, next) =>
        {
            if (ports.Contains(http.Connection.LocalPort) && !PublicPaths.Any(p => http.Request.Path.StartsWithSegments(p)))
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            await next(http);
        });
        return app;
    }
}
