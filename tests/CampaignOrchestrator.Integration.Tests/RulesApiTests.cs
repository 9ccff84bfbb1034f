using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// A marketer checks rules over HTTP (one YAML body or several files), gets each error with file, line and column, puts
/// new rules in force (refused as a whole when anything is wrong, audited when taken), and reads the history with each
/// version's text.
/// </summary>
[Collection(ApiKeyVariableCollection.Name)]
public sealed class RulesApiTests : IDisposable
{

    const string First = """
        campaigns:
          - id: hello-banner
            trigger: { event: page_viewed }
            steps:
              - action: { kind: banner, slot: home-hero, creative: hello }
        """;

    const string Broken = """
        campaigns:
          - id: big-carts
            trigger: { event: cart_abandoned }
            conditions:
              all:
                - { field: properties.cartValue, op: greater, value: 25 }
            steps:
              - action: { kind: banner, slot: home-hero, creative: big }
        """;

    const string Second = """
        campaigns:
          - id: care-mail
            trigger: { event: order_delivered }
            steps:
              - delay: 2d
                action: { kind: email, template: care-after-delivery }
        """;

    readonly RulesFolder _rules = new("campaigns.yaml", First);

    public void Dispose() => _rules.Dispose();

    static StringContent Yaml(string text) => new(text, Encoding.UTF8, "application/yaml");

    static MultipartFormDataContent Files(params (string Name, string Text)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, text) in files)
            form.Add(new StringContent(text, Encoding.UTF8, "application/yaml"), "files", name);
        return form;
    }

    [Fact]
    public async Task Rules_are_validated_with_positions_refused_as_a_whole_or_put_in_force_and_kept_in_the_history()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory", extra: new Dictionary<string, string?>
        {
            ["Rules:Path"] = _rules.Path, ["Rules:Watch"] = "false",
        });
        using var marketer = worker.As(TestKeys.Marketer);
        using var viewer = worker.As(TestKeys.Viewer);
        var before = (await viewer.GetFromJsonAsync<JsonObject>("/api/rules"))!;

        // Validate: a body, then files; nothing changes.
        var ok = (await (await marketer.PostAsync("/api/rules/validate?name=mine.yaml", Yaml(Second))).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True((bool)ok["valid"]!);
        Assert.Equal(["care-mail"], ok["campaigns"]!.AsArray().Select(c => (string)c!).ToArray());
        var bad = (await (await marketer.PostAsync("/api/rules/validate", Files(("a.yaml", Second), ("b.yaml", Broken)))).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False((bool)bad["valid"]!);
        var error = Assert.Single(bad["errors"]!.AsArray())!;
        Assert.Equal(("b.yaml", 6, 46, "big-carts"), ((string?)error["file"], (int)error["line"]!, (int)error["column"]!, (string?)error["campaignId"]));
        Assert.Contains("greater", (string?)error["message"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync("/api/rules/validate", Yaml(Second))).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await marketer.PostAsync("/api/rules/validate", JsonContent.Create(new { x = 1 }))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await marketer.PostAsync("/api/rules/validate", Files(("../evil.yaml", Second)))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await marketer.PostAsync("/api/rules/validate?name=..%2Fx.yaml", Yaml(Second))).StatusCode);

        // An upload with anything wrong is refused whole: the rules in force and the folder stay.
        var refused = await marketer.PutAsync("/api/rules", Files(("a.yaml", Second), ("b.yaml", Broken)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("b.yaml", (string?)(await refused.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![0]!["file"]);
        Assert.Equal((string?)before["version"], (string?)(await viewer.GetFromJsonAsync<JsonObject>("/api/rules"))!["version"]);
        Assert.Equal(["campaigns.yaml"], Directory.GetFiles(_rules.Path).Select(f => Path.GetFileName(f)!).ToArray());

        // A good upload becomes the whole rule set, with the version validation promised.
        var promised = (await (await marketer.PostAsync("/api/rules/validate", Files(("a.yaml", First), ("b.yaml", Second)))).Content.ReadFromJsonAsync<JsonObject>())!;
        var taken = await marketer.PutAsync("/api/rules", Files(("b.yaml", Second), ("a.yaml", First)));
        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        var now = (await viewer.GetFromJsonAsync<JsonObject>("/api/rules"))!;
        Assert.Equal((string?)promised["version"], (string?)now["version"]);
        Assert.NotEqual((string?)before["version"], (string?)now["version"]);
        Assert.Equal(["care-mail", "hello-banner"], now["campaigns"]!.AsArray().Select(c => (string)c!).Order().ToArray());
        Assert.Equal(["a.yaml", "b.yaml"], Directory.GetFiles(_rules.Path).Select(f => Path.GetFileName(f)!).Order().ToArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PutAsync("/api/rules", Yaml(Second))).StatusCode);

        // The history: newest first, each version with its files' text.
        var versions = (await viewer.GetFromJsonAsync<JsonArray>("/api/rules/versions"))!;
        Assert.Equal([(string)now["version"]!, (string)before["version"]!], versions.Select(v => (string)v!["version"]!).ToArray());
        var old = (await viewer.GetFromJsonAsync<JsonObject>($"/api/rules/versions/{before["version"]}"))!;
        Assert.Equal(First, (string?)old["sources"]!["campaigns.yaml"]);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/rules/versions/000000000000")).StatusCode);

        var audit = (await worker.Http.GetFromJsonAsync<JsonArray>("/api/audit"))!;
        var entry = Assert.Single(audit)!;
        Assert.Equal(("marketer-key", "rules.upload", (string?)now["version"]), ((string?)entry["keyName"], (string?)entry["action"], (string?)entry["target"]));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_earlier_version_is_put_back_in_force_and_every_activation_is_in_the_history(Db db)
    {
        await using var worker = await TestWorker.StartAsync(db, transport: "InMemory", extra: new Dictionary<string, string?>
        {
            ["Rules:Path"] = _rules.Path, ["Rules:Watch"] = "false",
        });
        using var marketer = worker.As(TestKeys.Marketer);
        using var viewer = worker.As(TestKeys.Viewer);
        var first = (string)(await viewer.GetFromJsonAsync<JsonObject>("/api/rules"))!["version"]!;
        Assert.Equal(HttpStatusCode.OK, (await marketer.PutAsync("/api/rules", Files(("campaigns.yaml", Second)))).StatusCode);
        var second = (string)(await viewer.GetFromJsonAsync<JsonObject>("/api/rules"))!["version"]!;

        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/api/rules/versions/{first}/activate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await marketer.PostAsync("/api/rules/versions/000000000000/activate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await marketer.PostAsync($"/api/rules/versions/{second}/activate", null)).StatusCode);   // in force already
        var rolledBack = await marketer.PostAsync($"/api/rules/versions/{first}/activate", null);
        Assert.Equal(HttpStatusCode.OK, rolledBack.StatusCode);
        Assert.Equal(first, (string?)(await rolledBack.Content.ReadFromJsonAsync<JsonObject>())!["version"]);
        Assert.Equal(First, await File.ReadAllTextAsync(Path.Combine(_rules.Path, "campaigns.yaml")));
        var afterRollback = DateTimeOffset.UtcNow;

        // And forward again, from the command line.
        Assert.Equal(0, (await Cli.RunAsync(TestKeys.Marketer, "rules", "rollback", second, "--url", worker.Http.BaseAddress!.ToString())).Exit);
        Assert.Equal(second, (string?)(await viewer.GetFromJsonAsync<JsonObject>("/api/rules"))!["version"]);

        // Every activation, newest first, with how it came; the version in force at a time is the one last put in force before it.
        var history = (await viewer.GetFromJsonAsync<JsonArray>("/api/rules/versions"))!.Select(v => ((string)v!["version"]!, (string?)v["by"])).ToList();
        Assert.Equal([(second, "rollback:marketer-key"), (first, "rollback:marketer-key"), (second, "upload:marketer-key"), (first, "start")], history);
        var rulesHistory = worker.Services.GetRequiredService<CampaignOrchestrator.Infrastructure.Campaigns.RulesHistory>();
        Assert.Equal(first, (await rulesHistory.InForceAtAsync(afterRollback, default))!.Version);
        Assert.Equal(second, (await rulesHistory.InForceAtAsync(DateTimeOffset.UtcNow, default))!.Version);
        var audit = (await worker.Http.GetFromJsonAsync<JsonArray>("/api/audit"))!.Select(e => ((string)e!["action"]!, (string)e["target"]!)).ToList();
        Assert.Equal([("rules.upload", second), ("rules.rollback", first), ("rules.rollback", second)], audit);
    }
}
