using System.Net;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Channels.Email;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Worker.Security;

namespace CampaignOrchestrator.Worker.Api;

/// <summary>
/// The unsubscribe link of marketing email: <c>GET /unsubscribe?token=…</c> shows a page with one button (mail scanners
/// that open links do not unsubscribe anybody); <c>POST</c> to the same address unsubscribes, from that button or in
/// one click from the mail program (RFC 8058, body <c>List-Unsubscribe=One-Click</c>). Open to the internet by design:
/// the opaque token is the only key, and it names one address. The page speaks the mail's language (Dutch or English,
/// else the browser's), sends no referrer (the token is in its address), is never cached or framed, and runs no script.
/// </summary>
internal static class UnsubscribeApi
{
    public static WebApplication MapUnsubscribe(this WebApplication app)
    {
        app.MapGet("/unsubscribe", async (string? token, UnsubscribeLinks links, JourneyStore journeys, HttpContext http, CancellationToken ct) =>
        {
            var (request, problem) = await links.ReadAsync(token, ct);
            var text = Texts.For(request?.Locale, http);
            if (request is null)
                return Page(http, 400, text, text.Broken, string.Format(text.BrokenBecause, text.Problem(problem)));
            var address = await MaskedAddressAsync(journeys, request, ct);
            return Page(http, 200, text, text.Title, $"<p>{WebUtility.HtmlEncode(address is null ? text.QuestionAny : string.Format(text.Question, address))}</p>" +
                $"<form method=\"post\" action=\"/unsubscribe?token={WebUtility.UrlEncode(token)}\"><button type=\"submit\">{WebUtility.HtmlEncode(text.Button)}</button></form>",
                raw: true);
        }).AllowAnonymous().RequireRateLimiting(RateLimits.Unsubscribe);
        app.MapPost("/unsubscribe", async (string? token, UnsubscribeLinks links, IJourneyWriter writer, JourneyStore journeys, HttpContext http,
            CancellationToken ct) =>
        {
            var (request, problem) = await links.ReadAsync(token, ct);
            var text = Texts.For(request?.Locale, http);
            if (request is null)
                return Page(http, 400, text, text.Broken, string.Format(text.BrokenBecause, text.Problem(problem)));
            var address = await MaskedAddressAsync(journeys, request, ct);
            await links.RecordAsync(request, writer, async profileId => (await journeys.GetAsync(profileId[2..], 1, ct))?.ProfileId == profileId, ct);
            return Page(http, 200, text, text.Done, address is null ? text.DoneAny : string.Format(text.DoneFor, address));
        }).DisableAntiforgery().AllowAnonymous().RequireRateLimiting(RateLimits.Unsubscribe);
        return app;
    }

    /// <summary>The customer's address as a****@example.com when the token's hash is the one the profile holds now; else null.</summary>
    static async Task<string?> MaskedAddressAsync(JourneyStore journeys, UnsubscribeRequest request, CancellationToken ct)
    {
        var journey = await journeys.GetAsync(request.ProfileId.Length > 2 ? request.ProfileId[2..] : request.ProfileId, 1, ct);
        var email = journey?.ProfileId == request.ProfileId ? journey.Traits["email"]?.ToString() : null;
        return email is not null && EmailHash.Of(email) == request.AddressSha256 ? Mask(email.Trim()) : null;
    }

    /// <summary>a****@example.com: enough to recognise, not enough to harvest.</summary>
    static string Mask(string address)
    {
        var at = address.IndexOf('@');
        return at <= 1 ? address : address[0] + new string('*', at - 1) + address[at..];
    }

    static IResult Page(HttpContext http, int status, Texts text, string title, string body, bool raw = false)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        headers.ContentLanguage = text.Language;
        return Results.Content(
            $"<!doctype html><html lang=\"{text.Language}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><meta name=\"referrer\" content=\"no-referrer\">" +
            $"<title>{WebUtility.HtmlEncode(title)}</title></head><body><h1>{WebUtility.HtmlEncode(title)}</h1>" +
            (raw ? body : $"<p>{WebUtility.HtmlEncode(body)}</p>") + "</body></html>", "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
    }

    /// <summary>The page's words in Dutch and English: the mail's locale, else the browser's Accept-Language, else English.</summary>
    sealed record Texts(string Language, string Title, string Question, string QuestionAny, string Button, string Done, string DoneFor, string DoneAny,
        string Broken, string BrokenBecause, string Incomplete, string NotOurs, string Expired)
    {
        static readonly Texts English = new("en", "Unsubscribe", "Stop marketing email to {0}?", "Stop marketing email to this address?", "Unsubscribe",
            "You are unsubscribed", "{0} gets no more marketing email from us. Order and delivery messages still arrive.",
            "This address gets no more marketing email from us. Order and delivery messages still arrive.",
            "This link does not work", "We cannot unsubscribe you with it: {0}.", "the link is incomplete", "the link is not one we sent", "the link has expired");

        static readonly Texts Dutch = new("nl", "Afmelden", "Geen marketingmail meer naar {0}?", "Geen marketingmail meer naar dit adres?", "Afmelden",
            "U bent afgemeld", "{0} krijgt geen marketingmail meer van ons. Berichten over uw bestellingen en leveringen komen nog wel.",
            "Dit adres krijgt geen marketingmail meer van ons. Berichten over uw bestellingen en leveringen komen nog wel.",
            "Deze link werkt niet", "We kunnen u er niet mee afmelden: {0}.", "de link is onvolledig", "de link komt niet van ons", "de link is verlopen");

        public static Texts For(string? locale, HttpContext http)
        {
            if (locale is { Length: >= 2 })
                return locale.StartsWith("nl", StringComparison.OrdinalIgnoreCase) ? Dutch : English;
            var accepted = http.Request.GetTypedHeaders().AcceptLanguage.OrderByDescending(l => l.Quality ?? 1).Select(l => l.Value.Value ?? "");
            return accepted.FirstOrDefault(l => l.StartsWith("nl", StringComparison.OrdinalIgnoreCase) || l.StartsWith("en", StringComparison.OrdinalIgnoreCase))
                is { } first && first.StartsWith("nl", StringComparison.OrdinalIgnoreCase) ? Dutch : English;
        }

        public string Problem(string? problem) => problem switch
        {
            "the link is not one we sent" => NotOurs,
            "the link has expired" => Expired,
            _ => Incomplete,
        };
    }
}
