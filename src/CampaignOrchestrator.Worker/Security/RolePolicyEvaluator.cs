using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;

namespace CampaignOrchestrator.Worker.Security;

/// <summary>
/// ASP.NET Core's policy evaluator with a short way for the policies this worker has: a policy that asks only for an
/// authenticated user and one of some roles (<see cref="ApiRoles"/>, the fallback policy) is granted here when the
/// principal has them, as the standard handlers would grant it; everything else, and every refusal (401/403 with its
/// reasons), goes through the standard evaluator. The standard way builds a handler context and runs the handler chain
/// for every request: about 10 µs of the banner read's CPU (docs/benchmarks.md, issue 16).
/// </summary>
internal sealed class RolePolicyEvaluator(IAuthorizationService authorization) : IPolicyEvaluator
{
    readonly PolicyEvaluator _standard = new(authorization);

    public Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context) =>
        _standard.AuthenticateAsync(policy, context);

    public Task<PolicyAuthorizationResult> AuthorizeAsync(AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource) =>
        Grants(policy, context.User) ? Task.FromResult(PolicyAuthorizationResult.Success()) : _standard.AuthorizeAsync(policy, authenticationResult, context, resource);

    /// <summary>Whether the policy is only role and authentication requirements and <paramref name="user"/> meets them all.</summary>
    internal static bool Grants(AuthorizationPolicy policy, System.Security.Claims.ClaimsPrincipal? user)
    {
        if (user is null)
            return false;
        foreach (var requirement in policy.Requirements)
        {
            var met = requirement switch
            {
                DenyAnonymousAuthorizationRequirement => user.Identities.Any(i => i.IsAuthenticated),
                RolesAuthorizationRequirement roles => roles.AllowedRoles.Any(user.IsInRole),
                _ => false, // any other requirement: the standard handlers decide
            };
            if (!met)
                return false;
        }
        return policy.Requirements.Count > 0;
    }
}
