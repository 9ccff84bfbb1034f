using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Webhooks against a real HTTP receiver on loopback that checks every signature the way the README tells receivers
/// to: retried through a passing failure with the same idempotency key, not retried on a refusal, left to wait while
/// the receiver is down.
/// </summary>
public sealed class WebhookChannelTests : IAsyncLifetime
{
    const string Secret = "crm-signing-secret-4242";
    readonly ConcurrentQueue<(string Body, string? Signature, string? Key, bool Valid)> _received = new();
    readonly Queue<int> _answers = new();
    WebApplication _receiver = null!;
    string _url = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/hooks/crm", async (HttpRequest request) =>
        {
            var body = await new StreamReader(request.Body).ReadToEndAsync();
            var signature = request.Headers[WebhookChannel.SignatureHeader].FirstOrDefault();
            _received.Enqueue((body, signature, request.Headers["Idempotency-Key"].FirstOrDefault(), Verify(Secret, signature, body, DateTimeOffset.UtcNow)));
            int status;
            lock (_answers)
                status = _answers.Count > 0 ? _answers.Dequeue() : 200;
            return Results.StatusCode(status);
        });
        await _receiver.StartAsync();
        var address = _receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _url = address + "/hooks/crm";
    }

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    /// <summary>What a receiver does (README): the signature over "t.body" under the shared secret, and a fresh t (no replays).</summary>
    static bool Verify(string secret, string? header, string body, DateTimeOffset now)
    {
        if (header is null)
            return false;
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1) || !long.TryParse(t, CultureInfo.InvariantCulture, out var seconds))
            return false;
        if (Math.Abs(now.ToUnixTimeSeconds() - seconds) > 300)
            return false;
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + body)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(v1));
    }

    static WebhookChannel Channel(string? secret = Secret) =>
        new(Options.Create(new WebhookOptions { Secrets = secret is null ? [] : new() { ["crm"] = secret }, Timeout = TimeSpan.FromSeconds(5) }), TimeProvider.System,
            CampaignOrchestrator.Infrastructure.Channels.ChannelPipelines.Standalone(TimeProvider.System, webhooks: new WebhookOptions { Timeout = TimeSpan.FromSeconds(5) }));

    static DueAction Action(string url, string secret = "crm") => new("act-" + Guid.NewGuid().ToString("N")[..8], "crm-sync", 1, "c:vera", "vera", "webhook",
        new JsonObject { ["url"] = url, ["secret"] = secret }, 0, "evt-1", null, false, DateTimeOffset.UtcNow, "v1", "purchase", 7);

    [Fact]
    public async Task A_webhook_is_signed_and_retried_through_a_passing_failure_with_the_same_idempotency_key()
    {
        lock (_answers) { _answers.Enqueue(503); _answers.Enqueue(502); }
        var action = Action(_url);
        var result = await Channel().DeliverAsync(action, default);

        Assert.Equal((true, "HTTP 200"), (result.Delivered, result.Detail));
        var calls = _received.ToList();
        Assert.Equal(3, calls.Count);
        Assert.All(calls, c => Assert.True(c.Valid, "signature did not verify: " + c.Signature));
        Assert.All(calls, c => Assert.Equal(action.ActionId, c.Key));
        var body = JsonNode.Parse(calls[^1].Body)!;
        Assert.Equal((action.ActionId, "crm-sync", "vera", "purchase", "evt-1"),
            ((string?)body["actionId"], (string?)body["campaignId"], (string?)body["customerId"], (string?)body["phase"], (string?)body["causeEventId"]));
        Assert.Equal(_url, (string?)body["settings"]!["url"]);
        Assert.Null(body["settings"]!["secret"]);                                       // the secret's name stays home
        Assert.False(Verify(Secret, calls[0].Signature, calls[0].Body.Replace("vera", "mallory"), DateTimeOffset.UtcNow)); // a changed body does not verify
        Assert.False(Verify(Secret, calls[0].Signature, calls[0].Body, DateTimeOffset.UtcNow.AddMinutes(10)));             // nor an old signature replayed
    }

    [Fact]
    public async Task A_refusal_fails_at_once_and_an_unknown_secret_sends_nothing()
    {
        lock (_answers) _answers.Enqueue(400);
        var refused = await Channel().DeliverAsync(Action(_url), default);
        Assert.Equal((false, "webhook answered HTTP 400", (DateTimeOffset?)null), (refused.Delivered, refused.Detail, refused.RetryAt));
        Assert.Single(_received);

        var unknown = await Channel().DeliverAsync(Action(_url, secret: "erp"), default);
        Assert.False(unknown.Delivered);
        Assert.Contains("Webhooks:Secrets:erp", unknown.Detail);
        Assert.Null(unknown.RetryAt);
        Assert.Single(_received);
    }

    [Fact]
    public async Task Audience_changes_reach_a_connector_in_signed_batches_and_wait_while_it_fails()
    {
        var folder = Directory.CreateTempSubdirectory("co-connector-").FullName;
        var database = new CampaignOrchestrator.Infrastructure.Storage.Database(CampaignOrchestrator.Infrastructure.Storage.StorageProvider.Sqlite,
            $"Data Source={Path.Combine(folder, "c.db")}");
        try
        {
            await new CampaignOrchestrator.Infrastructure.Storage.SchemaMigrator(database,
                Microsoft.Extensions.Logging.Abstractions.NullLogger<CampaignOrchestrator.Infrastructure.Storage.SchemaMigrator>.Instance).MigrateAsync(default);
            var options = new RetargetingOptions { Connectors = { ["ads"] = new ConnectorOptions { Url = _url, Secret = Secret } } };
            var at = DateTimeOffset.UtcNow;
            var events = Enumerable.Range(0, 3).Select(i => i < 2
                ? (CampaignOrchestrator.Contracts.Outbound.ICampaignActionEvent)new CampaignOrchestrator.Contracts.Outbound.RetargetingJoined($"act-{i}", "crm-sync", 1,
                    "vera", null, "purchase", at, "evt-1", 7, "cart-abandoners", $"hash-{i}", at.AddDays(30))
                : new CampaignOrchestrator.Contracts.Outbound.RetargetingLeft($"act-{i}", "crm-sync", 1, "vera", null, "purchase", at, "evt-1", 7, "cart-abandoners",
                    $"hash-{i}", "exit")).ToList();
            await using (var connection = await database.OpenAsync(default))
            {
                await using var tx = await connection.BeginTransactionAsync();
                await StoredRows.WriteAsync(connection, tx, database.Dialect, ConnectorOutbox.Rows(options, events).ToList(), default);
                await tx.CommitAsync();
            }
            var pusher = new ConnectorPusher(database, Options.Create(options), TimeProvider.System,
                Microsoft.Extensions.Logging.Abstractions.NullLogger<ConnectorPusher>.Instance);

            lock (_answers) _answers.Enqueue(500);
            await Assert.ThrowsAsync<HttpRequestException>(() => pusher.PushAsync("ads", default));   // the connector fails: kept
            Assert.Equal(3, await pusher.PushAsync("ads", default));                                    // the next round delivers them
            Assert.Equal(0, await pusher.PushAsync("ads", default));

            var calls = _received.ToList();
            Assert.Equal(2, calls.Count);
            Assert.All(calls, c => Assert.True(c.Valid, "signature did not verify: " + c.Signature));
            Assert.Equal(calls[0].Key, calls[1].Key);                                                   // the same batch, the same key
            var changes = JsonNode.Parse(calls[1].Body)!["changes"]!.AsArray();
            Assert.Equal(["retargeting.joined", "retargeting.joined", "retargeting.left"], changes.Select(c => (string?)c!["type"]));
            Assert.Equal(["hash-0", "hash-1", "hash-2"], changes.Select(c => (string?)c!["emailSha256"]));
        }
        finally
        {
            database.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_receiver_that_cannot_be_reached_leaves_the_action_waiting_instead_of_failed()
    {
        using var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();                                                                   // nobody listens there now

        var before = DateTimeOffset.UtcNow;
        var result = await Channel().DeliverAsync(Action($"http://127.0.0.1:{port}/hooks"), default);
        Assert.False(result.Delivered);
        Assert.NotNull(result.RetryAt);
        Assert.True(result.RetryAt > before.AddSeconds(30), $"retry at {result.RetryAt:O}");
        Assert.Contains("unreachable", result.Detail);
    }
}
