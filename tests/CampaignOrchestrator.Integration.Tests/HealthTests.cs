using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>/health/live and /health/ready on the running worker, as a load balancer or orchestrator reads them.</summary>
public sealed class HealthTests
{
    static int ClosedPort()
    {
        var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    static async Task<(HttpStatusCode Status, JsonObject Body)> ReadyAsync(TestWorker worker)
    {
        var response = await worker.Anonymous.GetAsync("/health/ready");
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonObject>())!);
    }

    [Fact]
    public async Task Ready_lists_every_dependency_healthy_when_they_are_up()
    {
        TestServers.RequireSmtp();
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        Assert.Equal(HttpStatusCode.OK, (await worker.Anonymous.GetAsync("/health/live")).StatusCode);
        var (status, body) = await ReadyAsync(worker);
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var checks = body["checks"]!.AsObject();
        foreach (var name in new[] { "database", "smtp", "rules", "dispatcher" })
            Assert.Equal("Healthy", (string?)checks[name]!["status"]);
        Assert.Contains(checks, c => c.Key.Contains("masstransit", StringComparison.OrdinalIgnoreCase) || c.Key.Contains("bus", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Ready_goes_503_naming_smtp_when_the_mail_server_cannot_be_reached_and_live_stays_200()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory",
            extra: new Dictionary<string, string?> { ["Email:Smtp:Port"] = ClosedPort().ToString() });
        var (status, body) = await ReadyAsync(worker);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", (string?)body["checks"]!["smtp"]!["status"]);
        Assert.Contains("unreachable", (string?)body["checks"]!["smtp"]!["description"]);
        Assert.Equal("Healthy", (string?)body["checks"]!["database"]!["status"]);
        Assert.Equal(HttpStatusCode.OK, (await worker.Anonymous.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Ready_goes_503_naming_the_database_when_it_goes_away()
    {
        TestServers.RequireSmtp();
        await using var worker = await TestWorker.StartAsync(Db.Postgres, transport: "InMemory");
        Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(worker)).Status);
        await TestServers.DropPostgresDatabaseAsync(worker.ConnectionString);   // the database is gone under the running worker
        var (status, body) = await ReadyAsync(worker);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", (string?)body["checks"]!["database"]!["status"]);
        Assert.Equal(HttpStatusCode.OK, (await worker.Anonymous.GetAsync("/health/live")).StatusCode);
    }
}
