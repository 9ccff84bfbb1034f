using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>Abuse limits per client address on the running worker: 429 problem+json with Retry-After.</summary>
public sealed class RateLimitTests
{
    static async Task AssertTooManyAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(int.TryParse(response.Headers.GetValues("Retry-After").Single(), out var seconds) && seconds >= 1, "Retry-After in seconds");
        Assert.Equal(429, (int?)(await response.Content.ReadFromJsonAsync<JsonObject>())!["status"]);
    }

    [Fact]
    public async Task Banner_reads_over_the_limit_get_429_and_the_reads_within_it_are_served()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory",
            extra: new Dictionary<string, string?> { ["RateLimits:PlacementsPerSecond"] = "5" });
        using var shop = worker.As(TestKeys.Placement);
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => shop.GetAsync("/api/placements/anna?slot=home-hero")));
        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        await AssertTooManyAsync(responses.First(r => r.StatusCode != HttpStatusCode.OK));
        await Task.Delay(1100);
        Assert.Equal(HttpStatusCode.OK, (await shop.GetAsync("/api/placements/anna?slot=home-hero")).StatusCode);   // the next second
    }

    [Fact]
    public async Task The_unsubscribe_page_is_limited_per_address()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory",
            extra: new Dictionary<string, string?> { ["RateLimits:UnsubscribePerMinute"] = "3" });
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.BadRequest, (await worker.Anonymous.GetAsync("/unsubscribe?token=not-a-token")).StatusCode);
        await AssertTooManyAsync(await worker.Anonymous.GetAsync("/unsubscribe?token=not-a-token"));
    }

    [Fact]
    public async Task After_too_many_failed_authentications_an_address_gets_429_whatever_key_it_sends()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory",
            extra: new Dictionary<string, string?> { ["RateLimits:FailedAuthenticationsPerMinute"] = "3" });
        Assert.Equal(HttpStatusCode.OK, (await worker.Http.GetAsync("/api/rules")).StatusCode);   // good keys do not count
        using var guesser = worker.As("co_guess-0000000000000000000000000000000");
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync("/api/rules")).StatusCode);
        await AssertTooManyAsync(await guesser.GetAsync("/api/rules"));
        await AssertTooManyAsync(await worker.Http.GetAsync("/api/rules"));       // the same address, until the minute is over
        Assert.Equal(HttpStatusCode.OK, (await worker.Anonymous.GetAsync("/health")).StatusCode);
    }

    [Theory]
    [InlineData("/metrics")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/dashboard/funnel.svg")]
    public async Task Guessing_keys_outside_the_api_counts_too_and_leaves_the_banner_reads_alone(string path)
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory",
            extra: new Dictionary<string, string?> { ["RateLimits:FailedAuthenticationsPerMinute"] = "3" });
        using var guesser = worker.As("co_guess-0000000000000000000000000000000");
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync(path)).StatusCode);
        await AssertTooManyAsync(await guesser.GetAsync(path));
        await AssertTooManyAsync(await worker.Http.GetAsync("/api/rules"));       // the operator endpoints, for this address
        using var shop = worker.As(TestKeys.Placement);
        Assert.Equal(HttpStatusCode.OK, (await shop.GetAsync("/api/placements/anna?slot=home-hero")).StatusCode);   // the banners are not
    }

    [Fact]
    public async Task A_cross_site_form_does_not_sign_in_and_the_placement_key_opens_no_dashboard()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = worker.Http.BaseAddress };
        FormUrlEncodedContent Form(string key) => new([new("key", key)]);

        // Another site's form posting a key (login CSRF): refused, no cookie.
        using var crossSite = new HttpRequestMessage(HttpMethod.Post, "/dashboard/sign-in") { Content = Form(TestKeys.Viewer) };
        crossSite.Headers.Add("Origin", "https://evil.example");
        crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
        var refused = await browser.SendAsync(crossSite);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.False(refused.Headers.Contains("Set-Cookie"));
        using var otherOrigin = new HttpRequestMessage(HttpMethod.Post, "/dashboard/sign-in") { Content = Form(TestKeys.Viewer) };
        otherOrigin.Headers.Add("Origin", "http://127.0.0.1:1");
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(otherOrigin)).StatusCode);

        // The dashboard's own page: signed in.
        using var own = new HttpRequestMessage(HttpMethod.Post, "/dashboard/sign-in") { Content = Form(TestKeys.Viewer) };
        own.Headers.Add("Origin", worker.Http.BaseAddress!.GetLeftPart(UriPartial.Authority));
        own.Headers.Add("Sec-Fetch-Site", "same-origin");
        var signedIn = await browser.SendAsync(own);
        Assert.Equal(("/", true), (signedIn.Headers.Location?.ToString(), signedIn.Headers.Contains("Set-Cookie")));

        // The webshop's placement key: no session.
        using var placement = new HttpRequestMessage(HttpMethod.Post, "/dashboard/sign-in") { Content = Form(TestKeys.Placement) };
        var notForIt = await browser.SendAsync(placement);
        Assert.Equal(("/sign-in?error=role", false), (notForIt.Headers.Location?.ToString(), notForIt.Headers.Contains("Set-Cookie")));
    }
}
