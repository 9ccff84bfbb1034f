using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using CampaignOrchestrator.Worker.Commands;
using CampaignOrchestrator.Worker.Preview;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// A rules change previewed on the stored events: 20 abandoned carts worth 10-105 under a threshold of 25; raising it to
/// 50 removes exactly the five carts of 25-45, and the preview names them.
/// </summary>
[Collection(ApiKeyVariableCollection.Name)]
public abstract class RulesPreviewTests : CampaignTestContext
{
    internal const string Threshold25 = """
        campaigns:
          - id: cart-recovery
            trigger: { event: cart_abandoned }
            transactional: true
            conditions: { field: properties.cartValue, op: gte, value: 25 }
            steps:
              - { delay: 1h, action: { kind: email, template: cart-reminder } }
              - { delay: 2d, action: { kind: email, template: we-miss-you } }
        """;

    static CompiledRules Compile(string yaml, string version) => new(RulesParser.Parse(yaml, "proposal.yaml"), version);

    [Fact]
    public async Task A_raised_cart_threshold_removes_exactly_the_carts_below_it()
    {
        Use(Threshold25);
        // Yesterday's carts (the preview replays them at the times the worker received them).
        for (var i = 0; i < 20; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(3));
            await Consume(E($"cart-{i}", "cart_abandoned", _time.GetUtcNow().AddMinutes(-1), $"shopper-{i:00}", Cart($"cart-{i}", 10 + 5 * i)));
        }
        await Advance(TimeSpan.FromHours(6)); // the first reminders went out; the last calls are pending

        var progress = new List<(long, long)>();
        var result = await new RulesPreview(new JourneyReader(_database), _rules, _time)
            .RunAsync(Compile(Threshold25.Replace("value: 25", "value: 50", StringComparison.Ordinal), "proposal"), 7, (done, total) => progress.Add((done, total)), default);

        Assert.Equal(20, result.Events);
        Assert.Equal((20L, 20L), progress[^1]);
        var cart = Assert.Single(result.Campaigns);
        Assert.Equal("cart-recovery", cart.CampaignId);
        // In force: carts of 25 and more (17 customers), each a delivered reminder and a pending last call; proposed: 50 and more (12).
        Assert.Equal(new Outcomes(34, 17, 0, 0, 17, 0), cart.Current);
        Assert.Equal(new Outcomes(24, 12, 0, 0, 12, 0), cart.Proposed);
        Assert.Equal(new Outcomes(-10, -5, 0, 0, -5, 0), cart.Difference);
        Assert.Equal(5, cart.OnlyCurrent.Count);
        Assert.Equal(["shopper-03", "shopper-04", "shopper-05", "shopper-06", "shopper-07"], cart.OnlyCurrent.Examples);
        Assert.Equal(0, cart.OnlyProposed.Count);
        Assert.Equal(0, cart.Changed.Count);
        Assert.Equal(_rules.Current.Version, result.CurrentVersion);
        Assert.True(result.Complete);
        Assert.Equal(20, result.Judged);
    }

    async Task YesterdaysCarts()
    {
        Use(Threshold25);
        for (var i = 0; i < 20; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(3));
            await Consume(E($"cart-{i}", "cart_abandoned", _time.GetUtcNow().AddMinutes(-1), $"shopper-{i:00}", Cart($"cart-{i}", 10 + 5 * i)));
        }
        await Advance(TimeSpan.FromHours(6));
    }

    [Fact]
    public async Task A_preview_stopped_half_way_answers_what_it_judged_up_to_then()
    {
        await YesterdaysCarts();
        using var stop = new CancellationTokenSource();
        // Stopped once ten of the twenty carts are judged (each cart arrived alone: a batch each).
        var result = await new RulesPreview(new JourneyReader(_database), _rules, _time).RunAsync(Compile(Threshold25.Replace("value: 25", "value: 50", StringComparison.Ordinal), "proposal"), 7,
            (done, _) => { if (done >= 10) stop.Cancel(); }, default, new PreviewOptions(), stop.Token);

        Assert.False(result.Complete);
        Assert.Equal("cancelled", result.Stopped);
        Assert.Equal((10L, 20L), (result.Judged, result.Events));
        Assert.True(result.JudgedUntil < _time.GetUtcNow() - TimeSpan.FromHours(5), $"{result.JudgedUntil:O}");
        var cart = Assert.Single(result.Campaigns);
        // Carts 0-9 are worth 10-55: 25 and more are carts 3-9 (7 customers), 50 and more carts 8-9; no reminder was due yet.
        Assert.Equal(new Outcomes(14, 0, 0, 0, 14, 0), cart.Current);
        Assert.Equal(new Outcomes(4, 0, 0, 0, 4, 0), cart.Proposed);
        Assert.Equal(["shopper-03", "shopper-04", "shopper-05", "shopper-06", "shopper-07"], cart.OnlyCurrent.Examples);
    }

    [Fact]
    public async Task A_preview_out_of_time_stops_and_says_so()
    {
        await YesterdaysCarts();
        var result = await new RulesPreview(new JourneyReader(_database), _rules, _time).RunAsync(Compile(Threshold25, "same"), 7, null, default,
            new PreviewOptions { MaxDuration = TimeSpan.Zero });
        Assert.False(result.Complete);
        Assert.Equal(0, result.Judged);
        Assert.Contains("time budget", result.Stopped);
        Assert.Equal(0, Assert.Single(result.Campaigns).Current.Scheduled);
    }
}

public sealed class SqliteRulesPreviewTests : RulesPreviewTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresRulesPreviewTests : RulesPreviewTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}

/// <summary>The preview over HTTP and on the command line against a running worker: in the background with progress.</summary>
public sealed class RulesPreviewApiTests : IDisposable
{
    readonly RulesFolder _rules = new("campaigns.yaml", RulesPreviewTests.Threshold25);

    public void Dispose() => _rules.Dispose();

    [Fact]
    public async Task A_marketer_previews_a_change_in_the_background_and_the_cli_prints_the_difference()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?> { ["Rules:Path"] = _rules.Path });
        await using var shop = await worker.ShopAsync();
        for (var i = 0; i < 6; i++)
            await shop.PublishAsync(Events.Json("cart_abandoned", $"pv-{i}", DateTimeOffset.UtcNow.AddHours(-3), $"pv-shopper-{i}",
                properties: new { cartId = $"pv-cart-{i}", cartValue = 20 + 10 * i }));
        await worker.WaitForCustomerAsync("pv-shopper-5", j => j["actions"]!.AsArray().Count == 2);

        var proposal = RulesPreviewTests.Threshold25.Replace("value: 25", "value: 50", StringComparison.Ordinal);
        using var marketer = worker.As(TestKeys.Marketer);
        using var viewer = worker.As(TestKeys.Viewer);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync("/api/rules/preview", Yaml(proposal))).StatusCode);
        var tooLong = await marketer.PostAsync("/api/rules/preview?days=400", Yaml(proposal));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal("days", (string?)(await tooLong.Content.ReadFromJsonAsync<JsonObject>())!["parameter"]);
        var broken = await marketer.PostAsync("/api/rules/preview", Yaml("campaigns: [ { id: x } ]"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, broken.StatusCode);

        var started = await marketer.PostAsync("/api/rules/preview?days=1", Yaml(proposal));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var location = started.Headers.Location!.ToString();
        JsonObject job;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            await Task.Delay(100);
            job = (await viewer.GetFromJsonAsync<JsonObject>(location))!;
        }
        while ((string?)job["status"] == "running" && DateTime.UtcNow < deadline);
        Assert.Equal("done", (string?)job["status"]);
        Assert.Equal(1.0, (double)job["progress"]!);
        var cart = job["result"]!["campaigns"]!.AsArray().Single()!;
        // Carts of 20-70: 30 and 40 are in force but not proposed.
        Assert.Equal(2, (int)cart["onlyCurrent"]!["count"]!);
        Assert.Equal(["pv-shopper-1", "pv-shopper-2"], cart["onlyCurrent"]!["examples"]!.AsArray().Select(e => (string?)e));
        Assert.Single((await viewer.GetFromJsonAsync<JsonArray>("/api/rules/previews"))!);
        Assert.True((bool)job["result"]!["complete"]!);
        // Cancelling: a marketer's, of a running preview only.
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync(location + "/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await marketer.PostAsync(location + "/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await marketer.PostAsync("/api/rules/preview/nope/cancel", null)).StatusCode);

        var file = Path.Combine(_rules.Path, "..", $"proposal-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, proposal);
        var (output, errors) = (new StringWriter(), new StringWriter());
        var before = Environment.GetEnvironmentVariable("CAMPAIGN_API_KEY");
        Environment.SetEnvironmentVariable("CAMPAIGN_API_KEY", TestKeys.Marketer);
        try
        {
            var exit = await PreviewCommand.RunAsync(["rules", "preview", "--rules", file, "--days", "1", "--url", worker.Http.BaseAddress!.ToString()],
                output, errors, poll: TimeSpan.FromMilliseconds(100));
            Assert.True(exit == 0, errors.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable("CAMPAIGN_API_KEY", before);
            File.Delete(file);
        }
        Assert.Contains("cart-recovery", output.ToString());
        Assert.Contains("2 customer(s) no longer get it, e.g. pv-shopper-1, pv-shopper-2", output.ToString());
        Assert.Contains("change:   -4 scheduled", output.ToString());
    }

    static StringContent Yaml(string yaml) => new(yaml, Encoding.UTF8, "application/yaml");
}
