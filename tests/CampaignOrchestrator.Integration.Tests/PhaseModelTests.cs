using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// The phase model the rules run on is the default everywhere a marketer looks: the funnel without a model, the rules'
/// status, a campaign's trigger and a customer's phase and history speak see-think-do-care when that is in force.
/// </summary>
public sealed class PhaseModelTests : IDisposable
{
    readonly RulesFolder _rules = new("campaigns.yaml", """
        phaseModel: see-think-do-care
        campaigns:
          - id: care-mail
            trigger: { phaseEntered: care }
            steps:
              - action: { kind: email, template: care-after-delivery }
          - id: lapsed
            trigger: { inactiveFor: 60d, inPhase: do }
            steps:
              - action: { kind: email, template: we-miss-you }
        """);

    public void Dispose() => _rules.Dispose();

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task See_think_do_care_in_force_names_every_phase_the_dashboard_and_api_show(Db db)
    {
        await using var worker = await TestWorker.StartAsync(db, transport: "InMemory", extra: new Dictionary<string, string?>
        {
            ["Rules:Path"] = _rules.Path, ["Rules:Watch"] = "false",
        });
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        await worker.Services.GetRequiredService<JourneyStore>().ApplyAsync(
        [
            new AcceptedEvent("pm-1", "page_viewed", at, "pm-ida", null, null, null, null),
            new AcceptedEvent("pm-2", "cart_updated", at.AddMinutes(1), "pm-ida", null, null, null, null),
        ], default);
        using var viewer = worker.As(TestKeys.Viewer);

        var rules = (await viewer.GetFromJsonAsync<JsonObject>("/api/rules"))!;
        Assert.Equal("see-think-do-care", (string?)rules["phaseModel"]);
        Assert.Equal("care", (string?)rules["phaseNames"]!["loyalty"]);

        var customer = (await viewer.GetFromJsonAsync<JsonObject>("/api/customers/pm-ida"))!;
        Assert.Equal(("purchase", "do", "see-think-do-care"), ((string?)customer["phase"], (string?)customer["phaseName"], (string?)customer["phaseModel"]));
        Assert.Equal(["see", "do"], customer["phaseHistory"]!.AsArray().Select(h => (string?)h!["name"]));

        var campaigns = (await viewer.GetFromJsonAsync<JsonObject>("/api/campaigns"))!["campaigns"]!.AsArray();
        Assert.Equal(["on entering care", "after 60 days inactive in do"], campaigns.Select(c => (string?)c!["trigger"]));

        JsonArray phases = [];
        for (var i = 0; i < 50 && phases.FirstOrDefault()?["reached"]?.GetValue<long>() != 1; i++)
        {
            await Task.Delay(100);
            phases = (await viewer.GetFromJsonAsync<JsonObject>("/api/funnel"))!["phases"]!.AsArray();
        }
        Assert.Equal(["see", "think", "do", "care"], phases.Select(p => (string?)p!["phase"]));
        Assert.Equal(5, (await viewer.GetFromJsonAsync<JsonObject>("/api/funnel?model=five-phase"))!["phases"]!.AsArray().Count);
    }
}
