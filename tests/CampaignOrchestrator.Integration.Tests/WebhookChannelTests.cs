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
    string? _receiverRedirectsTo;
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
            if (status is >= 300 and < 400 && _receiverRedirectsTo is { } location)
                request.HttpContext.Response.Headers.Location = location;
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

    /// <param name="allowPrivate">The receiver is on loopback: allowed here, as an administrator would for a receiver on the same machine.</param>
    static WebhookChannel Channel(string? secret = Secret, bool allowPrivate = true, string signsFor = "127.0.0.1")
    {
        var options = new WebhookOptions
        {
            Secrets = secret is null ? [] : new() { ["crm"] = secret }, SecretHosts = new() { ["crm"] = [signsFor] },
            Timeout = TimeSpan.FromSeconds(5), AllowPrivateNetworks = allowPrivate,
        };
        return new(Options.Create(options), TimeProvider.System, ChannelPipelines.Standalone(TimeProvider.System, webhooks: options));
    }

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

    [Theory]
    [InlineData(CampaignOrchestrator.Infrastructure.Storage.StorageProvider.Sqlite)]
    [InlineData(CampaignOrchestrator.Infrastructure.Storage.StorageProvider.Postgres)]
    public async Task Each_batch_a_connector_gets_has_a_key_never_used_before_even_after_the_queue_emptied(CampaignOrchestrator.Infrastructure.Storage.StorageProvider provider)
    {
        var connectionString = await Support.TestDatabases.CreateMigratedAsync(provider);
        var database = new CampaignOrchestrator.Infrastructure.Storage.Database(provider, connectionString);
        try
        {
            var options = new RetargetingOptions { Connectors = { ["meta"] = new ConnectorOptions { Url = _url, Secret = Secret } } };
            var pusher = new ConnectorPusher(database, Options.Create(options), TimeProvider.System,
                Microsoft.Extensions.Logging.Abstractions.NullLogger<ConnectorPusher>.Instance);
            for (var i = 0; i < 3; i++)
            {
                // One change, posted and deleted: the queue is empty again before the next.
                var change = new CampaignOrchestrator.Contracts.Outbound.RetargetingJoined($"act-{i}", "cart", 1, "vera", null, "purchase", DateTimeOffset.UtcNow,
                    "evt-1", 0, "cart-abandoners", $"hash-{i}", DateTimeOffset.UtcNow.AddDays(30));
                await using (var connection = await database.OpenAsync(default))
                {
                    await using var tx = await connection.BeginTransactionAsync();
                    await StoredRows.WriteAsync(connection, tx, database.Dialect, ConnectorOutbox.Rows(options, [change]).ToList(), default);
                    await tx.CommitAsync();
                }
                Assert.Equal(1, await pusher.PushAsync("meta", default));
            }
            var keys = _received.Select(c => c.Key).ToList();
            Assert.Equal(3, keys.Count);
            Assert.Equal(3, keys.Distinct().Count());
        }
        finally
        {
            database.Dispose();
            await Support.TestDatabases.DropAsync(provider, connectionString);
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

    [Theory]
    [InlineData("http://127.0.0.1:{port}/hooks/crm", "loopback")]
    [InlineData("http://localhost:{port}/hooks/crm", "loopback")]
    [InlineData("http://[::ffff:127.0.0.1]:{port}/hooks/crm", "loopback")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "link-local")]
    [InlineData("http://10.1.2.3/internal", "a private address")]
    [InlineData("http://192.168.1.1/router", "a private address")]
    [InlineData("http://0.0.0.0:{port}/hooks/crm", "an unspecified address")]
    public async Task By_default_a_webhook_reaches_no_loopback_link_local_or_private_address(string url, string what)
    {
        var port = new Uri(_url).Port.ToString(CultureInfo.InvariantCulture);
        var target = url.Replace("{port}", port);
        var host = new Uri(target).IdnHost;
        var result = await Channel(allowPrivate: false, signsFor: host).DeliverAsync(Action(target), default);
        Assert.False(result.Delivered);
        Assert.Null(result.RetryAt);                                                    // for good: no retry can help
        Assert.StartsWith("webhook refused: ", result.Detail);
        Assert.Contains(what, result.Detail);
        Assert.Empty(_received);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_a_secret_signs_only_for_its_hosts()
    {
        var other = new ConcurrentQueue<string?>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var elsewhere = builder.Build();
        elsewhere.MapPost("/steal", (HttpRequest request) => { other.Enqueue(request.Headers[WebhookChannel.SignatureHeader].FirstOrDefault()); return Results.Ok(); });
        await elsewhere.StartAsync();
        var elsewhereUrl = elsewhere.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _receiverRedirectsTo = elsewhereUrl + "/steal";

        // The step's host answers 307 to another: not followed, failed for good, the other host gets nothing.
        lock (_answers) _answers.Enqueue(307);
        var redirected = await Channel().DeliverAsync(Action(_url), default);
        Assert.Equal((false, (DateTimeOffset?)null), (redirected.Delivered, redirected.RetryAt));
        Assert.Contains("HTTP 307 (a redirect: not followed", redirected.Detail);
        Assert.Single(_received);
        Assert.Empty(other);

        // A secret bound to crm.example signs for nothing else.
        var bound = await Channel(signsFor: "crm.example").DeliverAsync(Action(_url), default);
        Assert.Equal((false, "webhook secret 'crm' may not sign for 127.0.0.1 (Webhooks:SecretHosts:crm)"), (bound.Delivered, bound.Detail));
        Assert.Single(_received);
    }

    [Fact]
    public void A_secret_without_hosts_stops_the_start_naming_the_setting()
    {
        var result = new WebhookOptionsValidator().Validate(null, new WebhookOptions { Secrets = new() { ["crm"] = "s" } });
        Assert.Contains("Webhooks:SecretHosts:crm must name the hosts secret 'crm' may sign for", Assert.Single(result.Failures!));
        Assert.True(new WebhookOptionsValidator().Validate(null, new WebhookOptions
        {
            Secrets = new() { ["crm"] = "s" }, SecretHosts = new() { ["crm"] = ["*.crm.example"] },
        }).Succeeded);
        var wildcard = new WebhookOptions { SecretHosts = new() { ["crm"] = ["*.crm.example"] } };
        Assert.True(wildcard.MaySign("crm", "eu.crm.example"));
        Assert.False(wildcard.MaySign("crm", "crm.example.attacker.net"));
        Assert.False(wildcard.MaySign("crm", "evilcrm.example"));
    }
}
