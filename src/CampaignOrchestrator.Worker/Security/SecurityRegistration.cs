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
        app.UseFailedAuthenticationLimit();
        app.UseAuthorization();
        if (app.Services.GetRequiredService<ApiKeys>().None)
            Log.NoApiKey(app.Logger);
        return app;
    }

    /// <summary>The key's name on an authenticated request (for the audit log).</summary>
    public static string KeyName(this HttpContext context) => context.User.Identity?.Name ?? "unknown";
}
