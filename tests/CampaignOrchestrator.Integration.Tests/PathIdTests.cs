using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;
using CampaignOrchestrator.Worker.Commands;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Every id the wire contract allows can be reached where the worker names a customer in a path: a customer id with
/// <c>/</c> (<c>tenant/42</c>), a device id holding a literal <c>%2F</c>, spaces and non-ASCII. Read, explained, exported,
/// its banners read, shown and exported by the CLI, and erased, on both databases.
/// </summary>
[Collection(ApiKeyVariableCollection.Name)]
public sealed class PathIdTests : IDisposable
{
    readonly RulesFolder _rules = new("campaigns.yaml", """
        campaigns:
          - id: welcome-banner
            trigger: { event: page_viewed }
            steps:
              - action: { kind: banner, slot: home-hero, creative: welcome }
        """);

    public void Dispose() => _rules.Dispose();

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_customer_whose_ids_hold_slashes_and_escapes_is_read_explained_exported_and_erased(Db db)
    {
        await using var worker = await TestWorker.StartAsync(db, extra: new Dictionary<string, string?> { ["Rules:Path"] = _rules.Path, ["Rules:Watch"] = "false" });
        await using var shop = await worker.ShopAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        var customer = $"tenant/{run}/42";
        var device = $"shop dev %2F {run} ü";
        var lookalike = $"tenant%2F{run}%2F42";   // another customer, whose id is what a decoder that stops half-way would read
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("v"), DateTimeOffset.UtcNow.AddMinutes(-2), customer, device));
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("v"), DateTimeOffset.UtcNow.AddMinutes(-2), lookalike));
        await worker.WaitForCustomerAsync(lookalike, j => j.EventCount() == 1);
        string Path(string id) => Uri.EscapeDataString(id);

        var journey = await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 1);
        Assert.Equal(customer, (string?)journey["customerId"]);
        Assert.Equal(customer, (string?)(await worker.Http.GetFromJsonAsync<JsonObject>($"/api/customers/{Path(device)}"))!["customerId"]);
        Assert.Equal(lookalike, (string?)(await worker.Http.GetFromJsonAsync<JsonObject>($"/api/customers/{Path(lookalike)}"))!["customerId"]);
        var explained = await worker.Http.GetAsync($"/api/customers/{Path(customer)}/explain?campaign=welcome-banner");
        Assert.Equal(HttpStatusCode.OK, explained.StatusCode);
        var export = (await worker.Http.GetFromJsonAsync<JsonObject>($"/api/customers/{Path(customer)}/export"))!;
        Assert.Contains(customer, export.ToJsonString());
        Assert.DoesNotContain(lookalike, export.ToJsonString());
        using var shopKey = worker.As(TestKeys.Placement);
        var banner = (await shopKey.GetFromJsonAsync<JsonObject>($"/api/placements/{Path(device)}?slot=home-hero"))!;
        Assert.Equal(("welcome", false), ((string?)banner["creative"], (bool)banner["isDefault"]!));

        var url = worker.Http.BaseAddress!.ToString();
        var (exit, output, _) = await Cli.RunAsync(TestKeys.Viewer, "customers", "show", customer, "--url", url);
        Assert.Equal(0, exit);
        Assert.Equal(customer, (string?)JsonNode.Parse(output)!["customerId"]);

        var (erased, report, why) = await Cli.RunAsync(TestKeys.Admin, "customers", "erase", customer, "--yes", "--url", url);
        Assert.True(erased == 0, why);
        Assert.True((int)JsonNode.Parse(report)!["profiles"]! >= 1, report);
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Http.GetAsync($"/api/customers/{Path(customer)}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Http.GetAsync($"/api/customers/{Path(device)}")).StatusCode);
        // The look-alike is another customer and is still there.
        Assert.Equal(HttpStatusCode.OK, (await worker.Http.GetAsync($"/api/customers/{Path(lookalike)}")).StatusCode);
    }
}
