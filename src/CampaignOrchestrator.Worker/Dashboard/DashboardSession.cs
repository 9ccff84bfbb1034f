using System.Security.Claims;
using CampaignOrchestrator.Worker.Security;
using Microsoft.AspNetCore.DataProtection;

namespace CampaignOrchestrator.Worker.Dashboard;

/// <summary>
/// The dashboard's sign-in: an API key, checked once, becomes a session cookie (<see cref="CookieName"/>: HttpOnly,
/// SameSite=Strict, Secure under HTTPS, 8 hours) holding the key's name and role, encrypted and signed by ASP.NET Core
/// Data Protection. <see cref="ApiKeyAuthenticationHandler"/> reads it when a request carries no key, so the dashboard calls
/// the same API with the same roles; a key removed from the configuration ends its sessions. State changes through a
/// session need the antiforgery token (<see cref="CsrfHeader"/>), which <c>GET /dashboard/session</c> hands out.
/// </summary>
internal sealed class DashboardSession(IDataProtectionProvider protection, ApiKeys keys, TimeProvider time)
{
    public const string CookieName = "co_session";
    public const string CsrfHeader = "X-CSRF-TOKEN";
    public const string ViaClaim = "via";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("CampaignOrchestrator.Dashboard.Session").ToTimeLimitedDataProtector();

    public enum SignInResult { SignedIn, Unknown, NotForTheDashboard }

    /// <summary>Signs in with <paramref name="presentedKey"/>: the cookie is set for a viewer's key or higher; a key that matches
    /// nothing, or the webshop's placement key (it reads banners, it opens no dashboard), sets none.</summary>
    public SignInResult SignIn(HttpContext http, string presentedKey)
    {
        if (keys.Find(presentedKey) is not { } key)
            return SignInResult.Unknown;
        if (!ApiRoles.Granting(ApiRoles.Viewer).Contains(key.Role))
            return SignInResult.NotForTheDashboard;
        var value = _protector.Protect($"{key.Name}\n{key.Role}", time.GetUtcNow() + Lifetime);
        http.Response.Cookies.Append(CookieName, value, Options(http));
        return SignInResult.SignedIn;
    }

    public static void SignOut(HttpContext http) => http.Response.Cookies.Delete(CookieName, Options(http));

    static CookieOptions Options(HttpContext http) => new()
    {
        HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = http.Request.IsHttps, Path = "/", IsEssential = true, MaxAge = Lifetime,
    };

    /// <summary>The signed-in key's principal, or null (no cookie, expired, tampered, or the key is no longer configured).</summary>
    public ClaimsPrincipal? Read(HttpRequest request)
    {
        if (!request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value))
            return null;
        string payload;
        try
        {
            payload = _protector.Unprotect(value, out var expires);
            if (expires < time.GetUtcNow())
                return null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
        var parts = payload.Split('\n');
        if (parts.Length != 2 || !keys.Has(parts[0], parts[1]))
            return null;
        return new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ApiKeyAuthenticationHandler.KeyNameClaim, parts[0]), new Claim(ClaimTypes.Role, parts[1]), new Claim(ViaClaim, "session")],
            ApiKeyAuthenticationHandler.SchemeName, ApiKeyAuthenticationHandler.KeyNameClaim, ClaimTypes.Role));
    }

    /// <summary>True when the request was authenticated by the session cookie (not by a key it carried).</summary>
    public static bool BySession(ClaimsPrincipal user) => user.HasClaim(ViaClaim, "session");
}
