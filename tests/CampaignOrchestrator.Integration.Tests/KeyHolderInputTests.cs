using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// What a marketer's or a viewer's key may send to the running worker: rules that once ended the process (a stack overflow)
/// or took gigabytes (an alias bomb), durations that passed validation and then could not run. Each gets a clear answer
/// with its place, the worker keeps serving, and the rules in force stay. Readiness names what fails.
/// </summary>
public sealed class KeyHolderInputTests
{
    static StringContent Yaml(string text) => new(text, Encoding.UTF8, "application/yaml");

    static string Campaign(string conditions, string step = "action: { kind: email, template: order-confirmation }") => $$"""
        campaigns:
          - id: hostile
            trigger: { event: page_viewed }
            conditions: {{conditions}}
            steps:
              - {{step}}
        """;

    // Ten anchors of ten aliases nine deep: 10^9 values in about 550 bytes.
    static readonly string Bomb = "{ all: [ " + string.Join(", ", Enumerable.Range(0, 9).Select(i =>
        $"{{ field: traits.a{i}, op: in, value: &a{i} [{string.Join(",", Enumerable.Repeat(i == 0 ? "x" : $"*a{i - 1}", 10))}] }}")) + " ] }";

    [Fact]
    public async Task Deep_and_exploding_yaml_gets_an_answer_with_its_place_and_the_worker_keeps_serving()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        using var marketer = worker.As(TestKeys.Marketer);
        using var viewer = worker.As(TestKeys.Viewer);
        var inForce = (string?)(await viewer.GetFromJsonAsync<JsonObject>("/api/rules"))!["version"];
        var hostile = new (string Name, string Yaml, string Says)[]
        {
            ("30,000 nested lists", Campaign("{ field: traits.a, op: in, value: " + new string('[', 30_000) + new string(']', 30_000) + " }"), "nested more than 64 deep"),
            ("50,000 nested nots", Campaign(string.Concat(Enumerable.Repeat("{not: ", 50_000)) + "{ field: traits.a, op: exists }" + new string('}', 50_000)), "nested more than 64 deep"),
            ("an alias bomb", Campaign(Bomb), "aliases expanded"),
        };
        foreach (var (name, yaml, says) in hostile)
        {
            var validated = (await (await marketer.PostAsync("/api/rules/validate", Yaml(yaml))).Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.False((bool)validated["valid"]!, name);
            var error = Assert.Single(validated["errors"]!.AsArray())!;
            Assert.Contains(says, (string?)error["message"]);
            Assert.Equal("rules.yaml", (string?)error["file"]);
            Assert.Equal(4, (int)error["line"]!);
            var put = await marketer.PutAsync("/api/rules", Yaml(yaml));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, put.StatusCode);
        }
        // A viewer's segment query and the dashboard's picture of it.
        foreach (var path in new[] { "/api/funnel?segment=", "/dashboard/funnel.svg?segment=" })
        {
            var answer = await viewer.GetAsync(path + Uri.EscapeDataString(Bomb));
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
            Assert.Contains("aliases expanded", await answer.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.OK, (await worker.Anonymous.GetAsync("/health/live")).StatusCode);
        Assert.Equal(inForce, (string?)(await viewer.GetFromJsonAsync<JsonObject>("/api/rules"))!["version"]);
    }

    [Theory]
    [InlineData("{ delay: 999999w, action: { kind: email, template: order-confirmation } }", 6, "delay '999999w' is out of range: from 0s to 365d")]
    [InlineData("action: { kind: banner, slot: home-hero, creative: c, ttl: 999999w }", 6, "ttl '999999w' is out of range: from 1m to 365d")]
    [InlineData("action: { kind: offer, discountPercent: 5, validFor: 999999w }", 6, "validFor '999999w' is out of range: from 1m to 365d")]
    public async Task A_duration_that_could_not_run_is_refused_naming_file_line_and_column(string step, int line, string expected)
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        using var marketer = worker.As(TestKeys.Marketer);
        var put = await marketer.PutAsync("/api/rules?name=hostile.yaml", Yaml(Campaign("{ field: traits.a, op: exists }", step)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, put.StatusCode);
        var error = Assert.Single((await put.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsArray())!;
        Assert.Equal(("hostile.yaml", line, expected), ((string?)error["file"], (int)error["line"]!, (string?)error["message"]));
        Assert.True((int)error["column"]! > 1);
    }

    [Theory]
    [InlineData("spring-sale", "there is no email template 'spring-sale'; the templates folder has care-after-delivery, cart-offer")]
    [InlineData("../../etc/passwd", "template '../../etc/passwd' is a template's folder name")]
    public async Task A_template_the_installation_does_not_have_is_refused_by_validate_upload_and_preview(string template, string expected)
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        using var marketer = worker.As(TestKeys.Marketer);
        var yaml = Campaign("{ field: traits.a, op: exists }", $"action: {{ kind: email, template: \"{template}\" }}");
        var validated = (await (await marketer.PostAsync("/api/rules/validate", Yaml(yaml))).Content.ReadFromJsonAsync<JsonObject>())!;
        var error = Assert.Single(validated["errors"]!.AsArray())!;
        Assert.StartsWith(expected, (string?)error["message"]);
        Assert.Equal(6, (int)error["line"]!);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await marketer.PutAsync("/api/rules", Yaml(yaml))).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await marketer.PostAsync("/api/rules/preview", Yaml(yaml))).StatusCode);
    }

    [Fact]
    public async Task Readiness_names_why_the_dispatcher_fails_and_which_campaign_was_passed_over()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        Assert.Equal(HttpStatusCode.OK, (await WaitForReady(worker, HttpStatusCode.OK)).Status);

        // Every poll fails (the table it claims from is gone): 503, with the reason.
        await using (var connection = new SqliteConnection(worker.ConnectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync("ALTER TABLE scheduled_actions RENAME TO scheduled_actions_away");
        }
        var (status, body) = await WaitForReady(worker, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("the dispatcher's polls fail", (string?)body["checks"]!["dispatcher"]!["description"]);
        Assert.Contains("no such table: scheduled_actions", (string?)body["checks"]!["dispatcher"]!["description"]);
        await using (var connection = new SqliteConnection(worker.ConnectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync("ALTER TABLE scheduled_actions_away RENAME TO scheduled_actions");
        }
        Assert.Equal(HttpStatusCode.OK, (await WaitForReady(worker, HttpStatusCode.OK)).Status);

        // A campaign passed over: still ready (the others run), degraded, named with its reason.
        worker.Services.GetRequiredService<CampaignFailures>().Record("win-back", "scanning for inactive customers", new ArgumentOutOfRangeException("t", "out of range"));
        var (_, degraded) = await WaitForReady(worker, HttpStatusCode.OK);
        Assert.Equal("Degraded", (string?)degraded["checks"]!["rules"]!["status"]);
        Assert.Contains("campaign win-back failed 1 time(s)", (string?)degraded["checks"]!["rules"]!["description"]);
        Assert.Contains("while scanning for inactive customers: ArgumentOutOfRangeException", (string?)degraded["checks"]!["rules"]!["description"]);
    }

    /// <summary>Reads /health/ready until it answers <paramref name="expected"/> (20 s at most): the last answer.</summary>
    static async Task<(HttpStatusCode Status, JsonObject Body)> WaitForReady(TestWorker worker, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var response = await worker.Anonymous.GetAsync("/health/ready");
            var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            if (response.StatusCode == expected || DateTime.UtcNow > deadline)
                return (response.StatusCode, body);
            await Task.Delay(200);
        }
    }
}
