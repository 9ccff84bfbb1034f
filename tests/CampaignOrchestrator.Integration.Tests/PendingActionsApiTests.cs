using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>Operators list pending actions by campaign or customer, and a marketer cancels one or a campaign's, audited.</summary>
public sealed class PendingActionsApiTests : IDisposable
{
    readonly RulesFolder _rules = new("campaigns.yaml", """
        campaigns:
          - id: slow-nudge
            trigger: { event: cart_abandoned }
            steps:
              - delay: 2d
                action: { kind: banner, slot: home-hero, creative: still-thinking }
              - delay: 1d
                action: { kind: banner, slot: home-hero, creative: last-call }
        """);

    public void Dispose() => _rules.Dispose();

    [Fact]
    public async Task Pending_actions_are_listed_and_a_marketer_cancels_one_then_the_rest_of_the_campaign_each_recorded_with_the_key()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?> { ["Rules:Path"] = _rules.Path });
        await using var shop = await worker.ShopAsync();
        var (ann, bob) = (Events.Id("ann"), Events.Id("bob"));
        foreach (var who in new[] { ann, bob })
            await shop.PublishAsync(Events.Json("cart_abandoned", Events.Id("c"), DateTimeOffset.UtcNow, who));
        await worker.WaitForCustomerAsync(bob, j => j["actions"]!.AsArray().Count == 2);
        await worker.WaitForCustomerAsync(ann, j => j["actions"]!.AsArray().Count == 2);

        using var viewer = worker.As(TestKeys.Viewer);
        var all = await viewer.GetFromJsonAsync<JsonArray>("/api/actions?campaign=slow-nudge");
        Assert.Equal(4, all!.Count);
        var anns = await viewer.GetFromJsonAsync<JsonArray>($"/api/actions?customer={ann}");
        Assert.Equal(2, anns!.Count);
        Assert.Empty((await viewer.GetFromJsonAsync<JsonArray>("/api/actions?customer=nobody-we-know"))!);
        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync("/api/actions")).StatusCode);

        var first = (string)anns[0]!["actionId"]!;
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/api/actions/{first}/cancel", null)).StatusCode);
        using var marketer = worker.As(TestKeys.Marketer);
        var one = await marketer.PostAsync($"/api/actions/{first}/cancel", null);
        Assert.Equal(1, (int)(await one.Content.ReadFromJsonAsync<JsonObject>())!["cancelled"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await marketer.PostAsync($"/api/actions/{first}/cancel", null)).StatusCode);   // once only

        var journey = await worker.Http.GetFromJsonAsync<JsonObject>($"/api/customers/{ann}");
        var cancelled = journey!["actions"]!.AsArray().Single(a => (string?)a!["actionId"] == first)!;
        Assert.Equal(("cancelled", "operator:marketer-key"), ((string?)cancelled["status"], (string?)cancelled["reason"]));
        Assert.Equal("cancelled", (string?)cancelled["log"]!.AsArray()[^1]!["outcome"]);

        var rest = await marketer.PostAsync("/api/campaigns/slow-nudge/cancel", null);
        Assert.Equal(3, (int)(await rest.Content.ReadFromJsonAsync<JsonObject>())!["cancelled"]!);
        Assert.Empty((await viewer.GetFromJsonAsync<JsonArray>("/api/actions?campaign=slow-nudge"))!);

        var audit = await worker.Http.GetFromJsonAsync<JsonArray>("/api/audit");
        Assert.Equal([("marketer-key", "actions.cancel", first), ("marketer-key", "actions.cancel", first), ("marketer-key", "campaign.cancel", "slow-nudge")],
            audit!.Select(e => ((string)e!["keyName"]!, (string)e["action"]!, (string)e["target"]!)).ToList());
    }
}
