using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Security;

/// <summary>
/// ASP.NET Core authentication by API key: <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c>, or the
/// dashboard's session cookie made from one (<see cref="Dashboard.DashboardSession"/>).
/// A request without a key, or with one that matches nothing, is answered 401; a known key without the endpoint's role
/// 403; both as problem+json (RFC 9457) that say nothing about the resource asked for.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeys keys, Dashboard.DashboardSession sessions) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string KeyNameClaim = "key_name";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Presented(Request);
        if (presented is null)
            // The dashboard's session cookie, when the request carries no key (an expired or unknown one is no sign-in, not a failure).
            return Task.FromResult(sessions.Read(Request) is { } session
                ? AuthenticateResult.Success(new AuthenticationTicket(session, SchemeName))
                : AuthenticateResult.NoResult());
        if (keys.Find(presented) is not { } key)
            return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
        // One principal per key, made once (nothing in the pipeline changes it); a ticket per request.
        var principal = Principals.GetOrAdd(key, static k => new ClaimsPrincipal(
            new ClaimsIdentity([new Claim(KeyNameClaim, k.Name), new Claim(ClaimTypes.Role, k.Role)], SchemeName, KeyNameClaim, ClaimTypes.Role)));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Name, string Role), ClaimsPrincipal> Principals = new();

    static string? Presented(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7)
            return authorization[7..].Trim();
        return request.Headers["X-Api-Key"].FirstOrDefault() is { Length: > 0 } key ? key.Trim() : null;
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return WriteProblemAsync(StatusCodes.Status401Unauthorized, "API key required",
            keys.None
                ? "No API key is configured on this worker; create one with `keys create --name NAME --role ROLE` and add the two lines it prints"
                : "Send a key in 'Authorization: Bearer <key>' (or 'X-Api-Key: <key>')");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Not allowed for this key", "The key's role does not include this operation");

    Task WriteProblemAsync(int status, string title, string detail)
    {
        var problems = Context.RequestServices.GetRequiredService<IProblemDetailsService>();
        Response.StatusCode = status;
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        }).AsTask();
    }
}
