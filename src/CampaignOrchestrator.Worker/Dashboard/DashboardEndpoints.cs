using System.Reflection;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Worker.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Dashboard;

/// <summary>
/// The dashboard at <c>/</c>: a page and its script and styles (embedded in the worker, no CDN), signing in and out with
/// an API key (<see cref="DashboardSession"/>), the session's roles and CSRF token, and the funnel chart as SVG. Everything
/// it shows comes from the operator API with the key's roles; the script writes values as text, never as markup.
/// </summary>
internal static class DashboardEndpoints
{
    static readonly Dictionary<string, string> Types = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8", [".js"] = "text/javascript; charset=utf-8", [".css"] = "text/css; charset=utf-8",
    };

    /// <summary>What the browser may load and run: this origin only, no inline script, no framing.</summary>
    const string Policy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.MapGet("/", (HttpContext http) => http.User.Identity?.IsAuthenticated == true ? Asset(http, "index.html") : Results.Redirect("/sign-in"))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/sign-in", (HttpContext http) => Asset(http, "sign-in.html")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/assets/{name}", (string name, HttpContext http) => name is "app.js" or "app.css" ? Asset(http, name) : Results.NotFound())
            .AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/dashboard/sign-in", async (HttpContext http, DashboardSession sessions, RateLimits.FailedAuthentications failures) =>
        {
            // Login CSRF: another site's form must not sign this browser in (with the other site's key). Browsers say where a
            // form comes from (Sec-Fetch-Site, Origin); a request that says another origin is refused.
            if (!SameOrigin(http))
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Sign-in from another site",
                    detail: "The dashboard signs in only from its own sign-in page");
            var address = RateLimits.Scope(http) + "|" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            if (failures.On && failures.LockedOut(address, out _))
                return Results.Redirect("/sign-in?error=locked");
            var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
            var key = form?["key"].ToString().Trim();
            var outcome = string.IsNullOrEmpty(key) ? DashboardSession.SignInResult.Unknown : sessions.SignIn(http, key);
            if (outcome == DashboardSession.SignInResult.SignedIn)
                return Results.Redirect("/");
            if (outcome == DashboardSession.SignInResult.NotForTheDashboard)
                return Results.Redirect("/sign-in?error=role");
            if (failures.On)
                failures.Count(address, out _);
            return Results.Redirect("/sign-in?error=key");
        }).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/dashboard/sign-out", (HttpContext http) =>
        {
            DashboardSession.SignOut(http);
            return Results.NoContent();
        }).ExcludeFromDescription();
        app.MapGet("/dashboard/session", (HttpContext http, IAntiforgery antiforgery) =>
        {
            // Antiforgery marks the answer no-cache, no-store itself.
            var tokens = antiforgery.GetAndStoreTokens(http);
            return Results.Ok(new
            {
                name = http.User.Identity?.Name,
                role = http.User.FindFirst(System.Security.Claims.ClaimTypes.Role)?.Value,
                csrfToken = tokens.RequestToken,
            });
        }).ExcludeFromDescription();
        app.MapGet("/dashboard/funnel.svg", async (string? model, string? from, string? to, string? segment, string? device, ActiveRules rules,
            FunnelCounters funnel, IOptions<FunnelOptions> options, TimeProvider time, HttpContext http, CancellationToken ct) =>
        {
            var (view, problem) = await Api.FunnelApi.ReadAsync(model, from, to, segment, device, rules, funnel, options.Value, time, ct);
            if (problem is not null)
                return problem;
            http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";
            return Results.Content(FunnelChart.Render(view!), "image/svg+xml; charset=utf-8");
        }).RequireAuthorization(ApiRoles.Viewer).ExcludeFromDescription();
        return app;
    }

    /// <summary>False when the browser says the request comes from another site (Sec-Fetch-Site) or origin (Origin); a client
    /// that sends neither (a script) is taken as it is.</summary>
    static bool SameOrigin(HttpContext http)
    {
        // Sec-Fetch-Site, when the browser sends it, says it all (with Referrer-Policy no-referrer a form's Origin is "null").
        var site = http.Request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
            return site is "same-origin" or "none";
        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length == 0)
            return true;
        return Uri.TryCreate(origin, UriKind.Absolute, out var from)
            && string.Equals(from.Authority, http.Request.Host.Value, StringComparison.OrdinalIgnoreCase)
            && string.Equals(from.Scheme, http.Request.Scheme, StringComparison.OrdinalIgnoreCase);
    }

    static IResult Asset(HttpContext http, string name)
    {
        var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("Dashboard.assets." + name);
        if (stream is null)
            return Results.NotFound();
        http.Response.Headers.ContentSecurityPolicy = Policy;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        // The sign-in form's POST carries its origin (checked against login CSRF); no other page sends a referrer.
        http.Response.Headers["Referrer-Policy"] = name == "sign-in.html" ? "same-origin" : "no-referrer";
        http.Response.Headers.CacheControl = name.EndsWith(".html", StringComparison.Ordinal) ? "no-store" : "no-cache";
        return Results.Stream(stream, Types[Path.GetExtension(name)]);
    }
}
