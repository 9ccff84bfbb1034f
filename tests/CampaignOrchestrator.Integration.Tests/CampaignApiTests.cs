using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// The running worker as marketers and operators see it: the rules it runs (and reloads when the
/// files change, refusing a bad change with its reasons), a customer's actions with their life, and
/// a campaign's funnel and outcome log.
/// </summary>
public sealed class CampaignApiTests : IAsyncLifetime
{
    readonly string _folder = Directory.CreateTempSubdirectory("co-api-rules-").FullName;

    const string Rules = TestRules.CartRecoveryBannerThenEmail;

    string RulesFile => Path.Combine(_folder, "campaigns.yaml");

    public Task InitializeAsync() => File.WriteAllTextAsync(RulesFile, Rules);

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Actions_their_life_and_the_campaign_funnel_are_visible_and_a_purchase_shows_as_the_cancelling_event()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?> { ["Rules:Path"] = _folder });
        await using var shop = await worker.ShopAsync();
        var t = DateTimeOffset.UtcNow.AddMinutes(-10);
        await shop.PublishAsync(Events.Json("cart_abandoned", "api-cart", t, "api-anna", properties: new { cartId = "cart-1", cartValue = 50 }));
        var journey = await worker.WaitForCustomerAsync("api-anna", j => j["actions"]!.AsArray().Any(a => (string?)a!["status"] == "delivered"));
        await shop.PublishAsync(Events.Json("order_placed", "api-order", t.AddMinutes(5), "api-anna", properties: new { orderId = "o-1", total = 50 }));
        // The journey and its actions are two reads: wait until both show the order (the actions may be read after a commit the journey missed).
        journey = await worker.WaitForCustomerAsync("api-anna", j => j["actions"]!.AsArray().Any(a => (string?)a!["status"] == "cancelled")
            && (decimal?)j["orderTotal"] == 50m);

        var actions = journey["actions"]!.AsArray().Select(a => a!.AsObject()).OrderBy(a => (int)a["step"]!).ToList();
        Assert.Equal(["delivered", "cancelled"], actions.Select(a => (string?)a["status"]));
        Assert.Equal(["scheduled", "due", "delivered"], actions[0]["log"]!.AsArray().Select(l => (string?)l!["outcome"]));
        Assert.Equal("api-order", (string?)actions[1]["causeEventId"]);
        Assert.Equal("api-cart", (string?)actions[1]["triggerId"]);
        Assert.Equal(50m, (decimal)journey["orderTotal"]!);

        var funnel = await worker.Http.GetFromJsonAsync<JsonObject>("/api/campaigns/cart-recovery");
        Assert.Equal(1, (int)funnel!["steps"]![0]!["byStatus"]!["delivered"]!);
        Assert.Equal(1, (int)funnel["steps"]![1]!["byStatus"]!["cancelled"]!);
        var log = await worker.Http.GetFromJsonAsync<JsonArray>("/api/campaigns/cart-recovery/log?outcome=cancelled");
        Assert.Equal("api-order", (string?)Assert.Single(log!)!["causeEventId"]);

        // The results: one customer got step 1; the order (placed before that delivery, by its occurredAt) is no conversion
        // of the campaign; step 2 was cancelled by the order as an exit.
        // Results are kept counters: the counting job brings them up within its interval (Funnel:RefreshInterval, 5 s).
        var results = await Eventually(() => worker.Http.GetFromJsonAsync<JsonObject>("/api/campaigns/cart-recovery/results"),
            r => (int?)r["customers"]?["treated"] == 1 && r["steps"]!.AsArray().Count == 2 && r["steps"]![1]!["cancelled"]!.AsObject().Count > 0);
        Assert.Equal(("order_placed", "7d"), ((string?)results!["goal"]!["event"], (string?)results["goal"]!["within"]));
        Assert.Equal((1, 0), ((int)results["customers"]!["treated"]!, (int)results["customers"]!["converted"]!));
        Assert.Equal(1, (int)results["steps"]![0]!["delivered"]!);
        Assert.Equal(1, (int)results["steps"]![1]!["cancelled"]!["exit"]!);
        Assert.False((bool)results["lift"]!["significant"]!);
        Assert.Contains("holdout", (string?)results["lift"]!["reason"]);

        // The connected funnel: the funnel job counts the customer within its interval; she entered purchase (the cart) and
        // is in it now (the order keeps her there: a first order is purchase).
        var phases = await Eventually(() => worker.Http.GetFromJsonAsync<JsonObject>("/api/funnel?model=touch-tell-sell-care"), f => (long?)f["customers"] >= 1);
        Assert.Equal(["touch", "tell", "sell", "care"], phases!["phases"]!.AsArray().Select(p => (string?)p!["phase"]));
        var sell = phases["phases"]![2]!;
        Assert.Equal((1, 1), ((int)sell["reached"]!, (int)sell["now"]!));
        Assert.Equal(1, (int)phases["customers"]!);
    }

    /// <summary>Reads until <paramref name="until"/> holds (20 s at most), and returns the last answer.</summary>
    static async Task<JsonObject> Eventually(Func<Task<JsonObject?>> read, Func<JsonObject, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var last = await read();
        while (!until(last!) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            last = await read();
        }
        return last!;
    }

    [Fact]
    public async Task The_webshop_reads_a_customers_banner_with_its_own_key_and_gets_the_default_when_none_is_assigned()
    {
        const string key = "shop-placement-key-0123456789";
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?>
        {
            ["Rules:Path"] = _folder,
            ["Placements:ApiKey"] = key,
            ["Placements:Defaults:home-hero"] = "spring-sale",
        });
        async Task<HttpResponseMessage> Read(string path, string? apiKey)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (apiKey is not null)
                request.Headers.Add("X-Api-Key", apiKey);
            return await worker.Anonymous.SendAsync(request);
        }

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await Read("/api/placements/banner-bo?slot=home-hero", null)).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await Read("/api/placements/banner-bo?slot=home-hero", key + "x")).StatusCode);
        var unknown = await (await Read("/api/placements/banner-bo?slot=home-hero", key)).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(("spring-sale", true), ((string?)unknown!["creative"], (bool)unknown["isDefault"]!));

        await using var shop = await worker.ShopAsync();
        await shop.PublishAsync(Events.Json("cart_abandoned", "api-banner-cart", DateTimeOffset.UtcNow.AddMinutes(-1), "banner-bo",
            properties: new { cartId = "cart-b", cartValue = 30 }));
        await worker.WaitForCustomerAsync("banner-bo", j => j["actions"]!.AsArray().Any(a => (string?)a!["status"] == "delivered"));
        var assigned = await (await Read("/api/placements/banner-bo?slot=home-hero", key)).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(("come-back", false, "cart-recovery"), ((string?)assigned!["creative"], (bool)assigned["isDefault"]!, (string?)assigned["campaignId"]));
        var all = await (await Read("/api/placements/banner-bo", key)).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(["home-hero"], all!["placements"]!.AsArray().Select(p => (string?)p!["slot"]));
    }

    [Fact]
    public async Task The_worker_reloads_changed_rules_and_keeps_the_last_valid_ones_when_a_change_is_refused()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory", extra: new Dictionary<string, string?> { ["Rules:Path"] = _folder });
        var first = await worker.Http.GetFromJsonAsync<JsonObject>("/api/rules");
        var version = (string)first!["version"]!;
        Assert.Equal(["cart-recovery"], first["campaigns"]!.AsArray().Select(c => (string?)c));

        await File.WriteAllTextAsync(RulesFile, Rules.Replace("delay: 2d", "delay: 3d"));
        var changed = await WaitForRulesAsync(worker, r => (string)r["version"]! != version);
        Assert.Null(changed["lastRefusal"]);

        await File.WriteAllTextAsync(RulesFile, Rules.Replace("delay: 2d", "delay: later"));
        var refused = await WaitForRulesAsync(worker, r => r["lastRefusal"] is JsonObject);
        Assert.Equal((string)changed["version"]!, (string)refused["version"]!);
        var error = (string)refused["lastRefusal"]!["errors"]![0]!;
        Assert.Contains("campaigns.yaml:8:", error);
        Assert.Contains("campaign 'cart-recovery'", error);
        Assert.Contains("'later'", error);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Quartz_runs_the_inactivity_scan_and_cron_schedules_in_the_running_worker(Db db)
    {
        await File.WriteAllTextAsync(RulesFile, """
            campaigns:
              - id: quiet
                trigger: { inactiveFor: 30s }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: still-there }
              - id: every-two-seconds
                trigger: { schedule: "0/2 * * * * ?", segment: { all: [ { field: phase, op: eq, value: awareness } ] } }
                reentry: { after: 1h }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: tick }
            """);
        await using var worker = await TestWorker.StartAsync(db, extra: new Dictionary<string, string?>
        {
            ["Rules:Path"] = _folder,
            ["Scheduling:InactivityScanInterval"] = "00:00:01",
        });
        await using var shop = await worker.ShopAsync();
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("quartz"), DateTimeOffset.UtcNow.AddMinutes(-5), "quartz-quinn"));

        var journey = await worker.WaitForCustomerAsync("quartz-quinn", j => j["actions"]!.AsArray().Count(a => (string?)a!["status"] == "delivered") == 2);
        var byCampaign = journey["actions"]!.AsArray().ToDictionary(a => (string)a!["campaignId"]!, a => a!.AsObject());
        Assert.StartsWith("inactive:", (string)byCampaign["quiet"]["triggerId"]!);
        Assert.StartsWith("schedule:", (string)byCampaign["every-two-seconds"]["triggerId"]!);
    }

    static async Task<JsonObject> WaitForRulesAsync(TestWorker worker, Func<JsonObject, bool> until)
    {
        JsonObject? last = null;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            last = await worker.Http.GetFromJsonAsync<JsonObject>("/api/rules");
            if (until(last!))
                return last!;
            await Task.Delay(100);
        }
        Assert.Fail("the rules did not change as expected in 15 s; last seen: " + last?.ToJsonString());
        return null!;
    }
}
