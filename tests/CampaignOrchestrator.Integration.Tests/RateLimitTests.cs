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
}
