using System.Net;
using CampaignOrchestrator.Infrastructure.Channels.Email;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Worker.Security;

namespace CampaignOrchestrator.Worker.Api;

/// <summary>
/// The unsubscribe link of marketing email: <c>GET /unsubscribe?token=…</c> shows a page with one button (mail scanners
/// that open links do not unsubscribe anybody); <c>POST</c> to the same address unsubscribes, from that button or in
/// one click from the mail program (RFC 8058, body <c>List-Unsubscribe=One-Click</c>). Open to the internet by design:
/// the signed token is the only key, and it names one address.
/// </summary>
internal static class UnsubscribeApi
{
    public static WebApplication MapUnsubscribe(this WebApplication app)
    {
        app.MapGet("/unsubscribe", async (string? token, UnsubscribeLinks links, CancellationToken ct) =>
        {
            var (request, problem) = await links.ReadAsync(token, ct);
            if (request is null)
                return Page(400, "This link does not work", $"We cannot unsubscribe you with it: {problem}.");
            return Page(200, "Unsubscribe", $"<p>Stop marketing email to {WebUtility.HtmlEncode(Mask(request.Address))}?</p>" +
                $"<form method=\"post\" action=\"/unsubscribe?token={WebUtility.UrlEncode(token)}\"><button type=\"submit\">Unsubscribe</button></form>", raw: true);
        }).AllowAnonymous().RequireRateLimiting(RateLimits.Unsubscribe);
        app.MapPost("/unsubscribe", async (string? token, UnsubscribeLinks links, IJourneyWriter journeys, CancellationToken ct) =>
        {
            var (request, problem) = await links.ReadAsync(token, ct);
            if (request is null)
                return Page(400, "This link does not work", $"We cannot unsubscribe you with it: {problem}.");
            await links.RecordAsync(request, journeys, ct);
            return Page(200, "You are unsubscribed", $"{Mask(request.Address)} gets no more marketing email from us. Order and delivery messages still arrive.");
        }).DisableAntiforgery().AllowAnonymous().RequireRateLimiting(RateLimits.Unsubscribe);
        return app;
    }

    /// <summary>a****@example.com: enough to recognise, not enough to harvest.</summary>
    static string Mask(string address)
    {
        var at = address.IndexOf('@');
        return at <= 1 ? address : address[0] + new string('*', at - 1) + address[at..];
    }

    static IResult Page(int status, string title, string body, bool raw = false) => Results.Content(
        $"<!doctype html><html><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)}</title></head><body><h1>{WebUtility.HtmlEncode(title)}</h1>" +
        (raw ? body : $"<p>{WebUtility.HtmlEncode(body)}</p>") + "</body></html>", "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
}
