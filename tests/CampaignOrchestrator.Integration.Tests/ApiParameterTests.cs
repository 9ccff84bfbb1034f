using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>Bad parameters and bodies get a 400 (or 413) problem+json that names what is wrong, before anything is read.</summary>
public sealed class ApiParameterTests
{
    [Theory]
    [InlineData("/api/customers/anna?timelineLimit=0", "timelineLimit")]
    [InlineData("/api/customers/anna?timelineLimit=5000", "timelineLimit")]
    [InlineData("/api/customers/anna?actionLimit=1001", "actionLimit")]
    [InlineData("/api/customers/%01anna", "id")]
    [InlineData("/api/customers/anna%0D%0AX-Injected:1", "id")]
    [InlineData("/api/campaigns/cart-recovery/log?limit=-3", "limit")]
    [InlineData("/api/campaigns/cart-recovery/log?after=-1", "after")]
    [InlineData("/api/campaigns/cart-recovery/log?outcome=everything", "outcome")]
    [InlineData("/api/campaigns/cart-recovery/results?from=last-week", "from")]
    [InlineData("/api/campaigns/cart-recovery/results?to=2026-13-40", "to")]
    [InlineData("/api/campaigns/cart-recovery/results?from=2026-12-01&to=2026-11-01", "from")]
    [InlineData("/api/campaigns/cart-recovery/results?from=2024-01-01&to=2026-01-01", "from")]
    [InlineData("/api/customers/anna/explain", "campaign")]
    [InlineData("/api/campaigns/cart-recovery/results?segment=nope", "segment")]
    [InlineData("/api/funnel?model=aida", "model")]
    [InlineData("/api/funnel?from=yesterday", "from")]
    [InlineData("/api/funnel?device=tablet", "device")]
    [InlineData("/api/funnel?segment=traits.persona%20resembles%20runner", "segment")]
    [InlineData("/api/funnel?segment=phase%20eq%20nirvana", "segment")]
    [InlineData("/api/errors?limit=100000", "limit")]
    [InlineData("/api/audit?limit=0", "limit")]
    [InlineData("/api/placements/anna?slot=%1B", "slot")]
    public async Task A_parameter_out_of_bounds_is_refused_naming_it(string path, string parameter)
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        var response = await worker.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(parameter, (string?)problem!["parameter"]);
        Assert.Contains($"'{parameter}'", (string?)problem["detail"]);
    }

    [Fact]
    public async Task An_id_longer_than_the_contract_allows_is_refused_and_the_largest_allowed_is_looked_up()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        Assert.Equal(HttpStatusCode.BadRequest, (await worker.Http.GetAsync("/api/customers/" + new string('a', 129))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Http.GetAsync("/api/customers/" + new string('a', 128))).StatusCode);
        // A NUL in the path: the server refuses the request line itself, before the API sees it.
        Assert.Equal(HttpStatusCode.BadRequest, (await worker.Http.GetAsync("/api/customers/%00anna")).StatusCode);
    }

    [Fact]
    public async Task A_path_traversal_id_is_only_an_unknown_customer()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        foreach (var path in new[] { "/api/customers/..%2F..%2F..%2Fetc%2Fpasswd", "/api/customers/%2E%2E%5C%2E%2E%5Cappsettings.json" })
        {
            var response = await worker.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("Unknown customer", (string?)(await response.Content.ReadFromJsonAsync<JsonObject>())!["title"]);
        }
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_413_before_it_is_read()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?> { ["Http:MaxRequestBodyBytes"] = "65536" });
        var ids = Enumerable.Range(0, 5000).Select(i => $"message-{i:D20}").ToArray();   // about 150 KB
        var response = await worker.Http.PostAsJsonAsync("/api/errors/replay", new { ids });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var small = await worker.Http.PostAsJsonAsync("/api/errors/replay", new { ids = ids[..10] });
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }
}
