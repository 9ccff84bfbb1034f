using CampaignOrchestrator.Worker.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CampaignOrchestrator.Worker.Security;

/// <summary>Credentials and roles on the operator API: API keys by hash, one policy per role (<see cref="ApiRoles"/>).</summary>
internal static class SecurityRegistration
{
    public static IHostApplicationBuilder AddApiSecurity(this IHostApplicationBuilder builder)
    {
        builder.BindValidated(SecurityOptions.SectionName, new SecurityOptionsValidator());
        builder.Services.AddSingleton<ApiKeys>();
        builder.Services.AddSingleton<Dashboard.DashboardSession>();
        builder.Services.AddAntiforgery(o =>
        {
            o.HeaderName = Dashboard.DashboardSession.CsrfHeader;
            o.Cookie.Name = "co_csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        // An endpoint that names no role still needs a key (new endpoints are closed until given a role);
        // health and the customers' unsubscribe page opt out explicitly.
        var authorization = builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        foreach (var role in ApiRoles.All)
            authorization.AddPolicy(role, p => p.RequireRole(ApiRoles.Granting(role)));
        builder.Services.Replace(ServiceDescriptor.Singleton<Microsoft.AspNetCore.Authorization.Policy.IPolicyEvaluator, RolePolicyEvaluator>());
        return builder;
    }

    /// <summary>
    /// Authentication, then the failed-authentication limit (it reads the result authentication left, so a request is
    /// authenticated once), then authorization; and the start-up line when no key is configured.
    /// </summary>
    public static WebApplication UseApiSecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseSessionCsrfCheck();
        app.UseFailedAuthenticationLimit();
        app.UseAuthorization();
        if (app.Services.GetRequiredService<ApiKeys>().None)
            Log.NoApiKey(app.Logger);
        return app;
    }

    /// <summary>
    /// A state change made with the dashboard's session cookie (not with a key the request carries, which no other site can
    /// send) needs the antiforgery token in <see cref="Dashboard.DashboardSession.CsrfHeader"/>; without it: 400 problem+json.
    /// </summary>
    static void UseSessionCsrfCheck(this WebApplication app) => app.Use(async (http, next) =>
    {
        var method = http.Request.Method;
        if (Dashboard.DashboardSession.BySession(http.User) && !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
            && !await http.RequestServices.GetRequiredService<Microsoft.AspNetCore.Antiforgery.IAntiforgery>().IsRequestValidAsync(http))
        {
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Missing or invalid CSRF token",
                detail: $"A change made with the dashboard's session needs the token of GET /dashboard/session in '{Dashboard.DashboardSession.CsrfHeader}'").ExecuteAsync(http);
            return;
        }
        await next(http);
    });

    /// <summary>The key's name on an authenticated request (for the audit log).</summary>
    public static string KeyName(this HttpContext context) => context.User.Identity?.Name ?? "unknown";
}
