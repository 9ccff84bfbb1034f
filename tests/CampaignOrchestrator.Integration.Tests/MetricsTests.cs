using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>GET /metrics scraped as Prometheus does, parsed, and the counters seen moving after events are published.</summary>
[Collection(ProcessWideCollection.Name)]
public sealed partial class MetricsTests
{
    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();

    /// <summary>The samples of <paramref name="name"/> whose labels include every one of <paramref name="labels"/>, summed.</summary>
    static double Sum(string text, string name, params string[] labels) =>
        Sample().Matches(text).Where(m => m.Groups["name"].Value == name && labels.All(l => m.Groups["labels"].Value.Contains(l)))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [Fact]
    public async Task Metrics_are_served_in_prometheus_text_to_a_viewer_and_count_what_the_worker_did()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        Assert.Equal(HttpStatusCode.Unauthorized, (await worker.Anonymous.GetAsync("/metrics")).StatusCode);
        using var prometheus = worker.As(TestKeys.Viewer);
        var before = await prometheus.GetStringAsync("/metrics");   // a counter appears once it counted something

        await using var shop = await worker.ShopAsync();
        var customer = Events.Id("metrics");
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("e"), DateTimeOffset.UtcNow.AddMinutes(-2), customer));
        var again = Events.Id("e");
        await shop.PublishAsync(Events.Json("product_viewed", again, DateTimeOffset.UtcNow.AddMinutes(-1), customer));
        await shop.PublishAsync(Events.Json("product_viewed", again, DateTimeOffset.UtcNow.AddMinutes(-1), customer));   // a duplicate
        await shop.PublishAsync("""{"eventId":"x"}""");                                                                     // rejected
        await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 2);

        string after = "";
        for (var i = 0; i < 50; i++)
        {
            after = await prometheus.GetStringAsync("/metrics");
            if (Sum(after, "campaign_orchestrator_journey_events_total", "outcome=\"rejected\"") >= 1
                && Sum(after, "campaign_orchestrator_journey_events_total", "outcome=\"duplicate\"") >= 1
                && Sum(after, "campaign_orchestrator_actions_total", "kind=\"banner\"", "outcome=\"delivered\"") >= 1)
                break;
            await Task.Delay(200);
        }
        Assert.Contains("# TYPE campaign_orchestrator_journey_events_total counter", after);
        Assert.Equal(2, Sum(after, "campaign_orchestrator_journey_events_total", "outcome=\"stored\"")
            - Sum(before, "campaign_orchestrator_journey_events_total", "outcome=\"stored\""));
        Assert.Equal(1, Sum(after, "campaign_orchestrator_journey_events_total", "outcome=\"duplicate\""));
        Assert.Equal(1, Sum(after, "campaign_orchestrator_journey_events_total", "outcome=\"rejected\""));
        // The default rules put banners up when a customer enters a phase: delivered, by kind, with the lag histogram.
        Assert.True(Sum(after, "campaign_orchestrator_actions_total", "kind=\"banner\"", "outcome=\"delivered\"") >= 1, after);
        Assert.True(Sum(after, "campaign_orchestrator_actions_firing_lag_seconds_count") >= 1);
        // The standard meters: ASP.NET Core's requests, the runtime's GC.
        Assert.Contains("http_server_request_duration_seconds", after);
        Assert.Matches(@"dotnet_gc_collections_total|process_runtime_dotnet_gc_collections_count", after);

        // The Grafana dashboard in infra/ charts only metrics the worker serves.
        var served = Regex.Matches(after, @"(?m)^# TYPE (\S+) ").Select(m => m.Groups[1].Value).ToHashSet();
        var dashboard = File.ReadAllText(Path.Combine(TestServers.RepositoryRoot, "infra", "grafana", "campaign-orchestrator.json"));
        // (MassTransit's meter lives once per process and goes with the first test host that stops, so its panel is not checked here.)
        var charted = Regex.Matches(dashboard, @"\b(campaign_orchestrator|dotnet|http_server)_[a-z_]+").Select(m => m.Value)
            .Select(n => Regex.Replace(n, "_(bucket|count|sum)$", "")).Distinct().ToList();
        Assert.True(charted.Count >= 10, string.Join(", ", charted));
        Assert.Equal([], charted.Where(n => !served.Contains(n)).ToArray());   // names what the worker does not serve
    }

    [Fact]
    public async Task The_gauges_say_what_waits_pending_actions_backlogs_smtp_connections_and_circuit_states()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        await using var shop = await worker.ShopAsync();
        var customer = Events.Id("gauges");
        // The default rules' cart recovery: a reminder an hour later, pending now.
        await shop.PublishAsync(Events.Json("cart_abandoned", Events.Id("c"), DateTimeOffset.UtcNow.AddMinutes(-1), customer,
            traits: new { email = "g@example.com", emailConsent = true }, properties: new { cartId = "k1", cartValue = 80 }));
        await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Any(a => (string?)a!["status"] == "pending"));
        await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<CampaignOrchestrator.Infrastructure.Channels.BacklogMetrics>(worker.Services).SampleAsync(default);   // not waiting 15 s

        using var prometheus = worker.As(TestKeys.Viewer);
        var text = await prometheus.GetStringAsync("/metrics");
        Assert.Contains("# TYPE campaign_orchestrator_actions_pending gauge", text);
        Assert.True(Sum(text, "campaign_orchestrator_actions_pending") >= 1, text);
        Assert.Matches(@"(?m)^campaign_orchestrator_outbox_backlog(\{[^}]*\})? \d", text);
        Assert.Matches(@"(?m)^campaign_orchestrator_connector_outbox_backlog(\{[^}]*\})? 0", text);
        Assert.Equal(0, Sum(text, "campaign_orchestrator_smtp_connections_in_use"));
        Assert.Equal(0, Sum(text, "campaign_orchestrator_circuit_state", "pipeline=\"smtp\""));
        Assert.Contains("campaign_orchestrator_circuit_state{", text);
    }
}
