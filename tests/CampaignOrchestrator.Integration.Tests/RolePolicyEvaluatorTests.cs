using System.Security.Claims;
using CampaignOrchestrator.Worker.Security;
using Microsoft.AspNetCore.Authorization;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// The short way of <see cref="RolePolicyEvaluator"/> grants exactly what ASP.NET Core's role and authentication handlers
/// would, and leaves every other policy to them (the refusals over HTTP are in <see cref="ApiSecurityTests"/>).
/// </summary>
public sealed class RolePolicyEvaluatorTests
{
    static ClaimsPrincipal Key(string role) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Role, role)], ApiKeyAuthenticationHandler.SchemeName, ApiKeyAuthenticationHandler.KeyNameClaim, ClaimTypes.Role));

    static AuthorizationPolicy Roles(params string[] roles) => new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole(roles).Build();

    [Fact]
    public void A_key_with_one_of_the_roles_is_granted()
    {
        Assert.True(RolePolicyEvaluator.Grants(Roles(ApiRoles.Granting(ApiRoles.Viewer)), Key(ApiRoles.Admin)));
        Assert.True(RolePolicyEvaluator.Grants(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build(), Key(ApiRoles.Placement)));
    }

    [Fact]
    public void A_key_without_the_role_an_anonymous_caller_or_another_requirement_goes_to_the_standard_evaluator()
    {
        Assert.False(RolePolicyEvaluator.Grants(Roles(ApiRoles.Granting(ApiRoles.Admin)), Key(ApiRoles.Marketer)));
        Assert.False(RolePolicyEvaluator.Grants(Roles(ApiRoles.Granting(ApiRoles.Viewer)), new ClaimsPrincipal(new ClaimsIdentity())));
        Assert.False(RolePolicyEvaluator.Grants(Roles(ApiRoles.Granting(ApiRoles.Viewer)), null));
        var withClaim = new AuthorizationPolicyBuilder().RequireRole(ApiRoles.Admin).RequireClaim("tenant", "a").Build();
        Assert.False(RolePolicyEvaluator.Grants(withClaim, Key(ApiRoles.Admin)));
    }
}
