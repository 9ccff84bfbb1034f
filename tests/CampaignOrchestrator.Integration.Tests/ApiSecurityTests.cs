using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;
using CampaignOrchestrator.Worker.Commands;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Credentials and roles on the running worker's HTTP API, over real HTTP: every endpoint with no key, a wrong key, a
/// key of too small a role and the right one; what a refusal says; the worker without any key; keys made by the CLI.
/// </summary>
public sealed class ApiSecurityTests
{
    /// <summary>Every /api endpoint and the least role it needs.</summary>
    public static TheoryData<string, string, string> Endpoints => new()
    {
        { "GET", "/api/customers/anna", "viewer" },
        { "GET", "/api/rules", "viewer" },
        { "GET", "/api/campaigns", "viewer" },
        { "GET", "/api/campaigns/cart-recovery", "viewer" },
        { "GET", "/api/campaigns/cart-recovery/log", "viewer" },
        { "GET", "/api/campaigns/cart-recovery/results", "viewer" },
        { "GET", "/api/funnel", "viewer" },
        { "GET", "/api/customers/anna/explain?campaign=cart-recovery", "viewer" },
        { "GET", "/api/metrics", "viewer" },
        { "GET", "/api/actions?campaign=cart-recovery", "viewer" },
        { "POST", "/api/actions/a-1/cancel", "marketer" },
        { "POST", "/api/campaigns/cart-recovery/cancel", "marketer" },
        { "GET", "/metrics", "viewer" },
        { "GET", "/api/errors", "admin" },
        { "POST", "/api/errors/replay", "admin" },
        { "GET", "/api/audit", "admin" },
        { "DELETE", "/api/errors/m-1", "admin" },
        { "GET", "/api/customers/anna/export", "admin" },
        { "DELETE", "/api/customers/anna", "admin" },
        { "POST", "/api/rules/validate", "marketer" },
        { "POST", "/api/rules/preview", "marketer" },
        { "GET", "/api/rules/preview/abc", "viewer" },
        { "GET", "/api/rules/previews", "viewer" },
        { "PUT", "/api/rules", "marketer" },
        { "GET", "/api/rules/versions", "viewer" },
        { "GET", "/api/customers?anonymousId=anna", "viewer" },
        { "GET", "/api/rules/versions/abc", "viewer" },
        { "GET", "/api/placements/anna?slot=home-hero", "placement" },
    };

    static readonly Dictionary<string, string> KeyOf = new()
    {
        ["admin"] = TestKeys.Admin, ["marketer"] = TestKeys.Marketer, ["viewer"] = TestKeys.Viewer, ["placement"] = TestKeys.Placement,
    };

    /// <summary>The roles that may call an endpoint needing <paramref name="least"/>.</summary>
    static string[] Allowed(string least) => least switch
    {
        "viewer" => ["viewer", "marketer", "admin"],
        "marketer" => ["marketer", "admin"],
        "admin" => ["admin"],
        "placement" => ["placement", "admin"],
        _ => throw new ArgumentException(least),
    };

    static async Task<HttpResponseMessage> SendAsync(HttpClient http, string method, string path, string? apiKeyHeader = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
            request.Content = JsonContent.Create(new { all = true });
        if (apiKeyHeader is not null)
            request.Headers.Add("X-Api-Key", apiKeyHeader);
        return await http.SendAsync(request);
    }

    static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string path)
    {
        Assert.True(status == response.StatusCode, $"{path}: expected {(int)status}, got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal((int)status, (int?)body!["status"]);
        Assert.DoesNotContain("anna", body.ToJsonString());   // a refusal says nothing of the customer asked for
    }

    [Fact]
    public async Task Every_endpoint_refuses_no_key_and_a_wrong_key_with_401_a_smaller_role_with_403_and_serves_its_roles()
    {
        // Thirty refusals from one address: the failed-authentication limit (RateLimitTests) is off here.
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory",
            extra: new Dictionary<string, string?> { ["RateLimits:FailedAuthenticationsPerMinute"] = "0" });
        foreach (var row in Endpoints)
        {
            var (method, path, least) = ((string)row[0], (string)row[1], (string)row[2]);
            await AssertProblemAsync(await SendAsync(worker.Anonymous, method, path), HttpStatusCode.Unauthorized, path);
            using (var wrong = worker.As("co_not-a-key-we-know-00000000000000000"))
                await AssertProblemAsync(await SendAsync(wrong, method, path), HttpStatusCode.Unauthorized, path);
            await AssertProblemAsync(await SendAsync(worker.Anonymous, method, path, apiKeyHeader: TestKeys.Admin + "x"), HttpStatusCode.Unauthorized, path);
            foreach (var (role, key) in KeyOf)
            {
                using var client = worker.As(key);
                var response = await SendAsync(client, method, path);
                if (Allowed(least).Contains(role))
                    Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                        $"{method} {path} as {role}: {(int)response.StatusCode}");
                else
                    await AssertProblemAsync(response, HttpStatusCode.Forbidden, $"{method} {path} as {role}");
            }
            // The same key in X-Api-Key instead of Authorization.
            var viaHeader = await SendAsync(worker.Anonymous, method, path, apiKeyHeader: KeyOf[Allowed(least)[0]]);
            Assert.True(viaHeader.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{path} with X-Api-Key: {(int)viaHeader.StatusCode}");
        }
        // Health needs no key; an unknown customer answers the same 401 as a known one would.
        Assert.Equal(HttpStatusCode.OK, (await worker.Anonymous.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task A_path_outside_the_listed_endpoints_is_closed_too()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        // No endpoint here: 404 for a valid key, but 401 without one (new endpoints are closed until given a role).
        Assert.Equal(HttpStatusCode.Unauthorized, (await worker.Anonymous.GetAsync("/api/no-such-thing")).StatusCode);
    }

    sealed class CapturedLogs : ILoggerProvider
    {
        public readonly System.Collections.Concurrent.ConcurrentQueue<string> Lines = new();
        public ILogger CreateLogger(string categoryName) => new Logger(this);
        public void Dispose() { }
        sealed class Logger(CapturedLogs owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue(formatter(state, exception));
        }
    }

    [Fact]
    public async Task Without_any_key_the_worker_starts_refuses_the_api_says_how_to_add_a_key_and_health_still_answers()
    {
        var logs = new CapturedLogs();
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory", keys: false,
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        Assert.Single(logs.Lines, l => l.Contains("No API key is configured") && l.Contains("keys create --name"));
        var refused = await worker.Http.GetAsync("/api/customers/anna");   // even the tests' admin key is unknown here
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("keys create", (await refused.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.ToString());
        Assert.Equal(HttpStatusCode.OK, (await worker.Anonymous.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Keys_create_prints_a_new_key_once_and_the_two_lines_that_give_it_its_role()
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        Assert.Equal(0, KeysCommand.Run(["keys", "create", "--name", "ops", "--role", "viewer"], output, errors));
        var lines = output.ToString().Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var key = Assert.Single(lines, l => l.StartsWith("co_", StringComparison.Ordinal));
        var settings = lines.Where(l => l.StartsWith("Security__ApiKeys__ops__", StringComparison.Ordinal))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0].Replace("__", ":"), p => (string?)p[1]);
        Assert.Equal(["Security:ApiKeys:ops:Role", "Security:ApiKeys:ops:Sha256"], settings.Keys.Order());
        Assert.DoesNotContain(key, settings.Values);                       // only the hash is configured
        var again = new StringWriter();
        KeysCommand.Run(["keys", "create", "--name", "ops", "--role", "viewer"], again, new StringWriter());
        Assert.DoesNotContain(key, again.ToString());                      // a new key each time

        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory", keys: false, extra: settings);
        using var ops = worker.As(key);
        Assert.Equal(HttpStatusCode.OK, (await ops.GetAsync("/api/rules")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ops.GetAsync("/api/errors")).StatusCode);

        Assert.Equal(2, KeysCommand.Run(["keys", "create", "--name", "ops", "--role", "root"], new StringWriter(), errors));
        Assert.Contains("must be one of admin, marketer, viewer, placement", errors.ToString());
    }

    [Fact]
    public async Task A_replay_is_recorded_in_the_audit_log_with_the_key_that_did_it()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        var replay = await worker.Http.PostAsJsonAsync("/api/errors/replay", new { ids = new[] { "no-such-message" } });
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        var audit = await worker.Http.GetFromJsonAsync<JsonArray>("/api/audit");
        var entry = Assert.Single(audit!);
        Assert.Equal(("admin-key", "errors.replay", "no-such-message", "0 replayed"),
            ((string?)entry!["keyName"], (string?)entry["action"], (string?)entry["target"], (string?)entry["detail"]));
        using var viewer = worker.As(TestKeys.Viewer);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/api/audit")).StatusCode);
    }
}
