using System.Net;
using System.Net.Sockets;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>Where the worker answers: the public listener serves only what customers and webshops need; other hosts are refused.</summary>
public sealed class ListenerTests
{
    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task The_public_listener_serves_the_unsubscribe_page_and_banners_and_nothing_else()
    {
        var port = FreePort();
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory",
            extra: new Dictionary<string, string?> { ["Http:PublicUrls"] = $"http://127.0.0.1:{port}" });
        var publicUri = new Uri($"http://127.0.0.1:{port}");
        using var admin = TestKeys.Client(publicUri, TestKeys.Admin, TimeSpan.FromSeconds(10));
        using var shop = TestKeys.Client(publicUri, TestKeys.Placement, TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, (await shop.GetAsync("/api/placements/anna?slot=home-hero")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await shop.GetAsync("/unsubscribe?token=not-a-token")).StatusCode);   // the page, saying the link is bad
        foreach (var path in new[] { "/api/customers/anna", "/api/errors", "/api/audit", "/api/rules", "/health" })
            Assert.True(HttpStatusCode.NotFound == (await admin.GetAsync(path)).StatusCode, $"{path} on the public listener");

        // The operator address still has everything.
        Assert.Equal(HttpStatusCode.OK, (await worker.Http.GetAsync("/api/rules")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await worker.Anonymous.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task A_request_for_another_host_name_is_refused_so_a_rebinding_page_gets_nothing()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/rules");
        request.Headers.Host = "attacker.example";
        Assert.Equal(HttpStatusCode.BadRequest, (await worker.Http.SendAsync(request)).StatusCode);
        using var local = new HttpRequestMessage(HttpMethod.Get, "/api/rules");
        local.Headers.Host = "localhost";
        Assert.Equal(HttpStatusCode.OK, (await worker.Http.SendAsync(local)).StatusCode);
        Assert.False((await worker.Http.GetAsync("/api/rules")).Headers.Contains("Access-Control-Allow-Origin"));   // CORS stays closed
    }
}
