using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Data.Sqlite;
using CampaignOrchestrator.Infrastructure.Storage;

namespace CampaignOrchestrator.Integration.Tests.Support;

public enum Db { Sqlite, Postgres }

/// <summary>
/// The real worker host, as <c>dotnet run</c> builds it, on its own queue, its own database
/// (a temp SQLite file or a fresh PostgreSQL database) and a free loopback port.
/// </summary>
internal sealed class TestWorker : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly string _connectionString;
    readonly Db _db;
    readonly string? _sqliteFolder;
    readonly string? _transport;
    readonly TestServers.VirtualHostLease? _virtualHost;

    TestWorker(WebApplication app, Db db, string connectionString, string queue, string? sqliteFolder, string? transport, TestServers.VirtualHostLease? virtualHost)
    {
        _transport = transport;
        _virtualHost = virtualHost;
        _app = app; _db = db; _connectionString = connectionString; Queue = queue; _sqliteFolder = sqliteFolder;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http = TestKeys.Client(new Uri(address), TestKeys.Admin, TimeSpan.FromSeconds(10));
        Anonymous = TestKeys.Client(new Uri(address), null, TimeSpan.FromSeconds(10));
    }

    public string Queue { get; }

    /// <summary>The RabbitMQ virtual host of this test's own the worker uses (with the RabbitMQ transport).</summary>
    public string VirtualHost => _virtualHost?.Name ?? "/";

    /// <summary>A webshop publishing to this worker's broker: raw AMQP in its virtual host.</summary>
    public Task<RabbitPublisher> ShopAsync() => RabbitPublisher.ConnectAsync(virtualHost: VirtualHost);

    /// <summary>A queue of the test's own on this worker's outbound exchange, bound with <paramref name="bindingKey"/>.</summary>
    public Task<(RabbitMQ.Client.IConnection Connection, RabbitMQ.Client.IChannel Channel, string Queue)> ListenAsync(string bindingKey) =>
        CampaignActionsListener.ListenAsync(bindingKey, VirtualHost);

    /// <summary>A client with the admin key (every endpoint).</summary>
    public HttpClient Http { get; }

    /// <summary>A client without a key: what anybody who can reach the worker gets.</summary>
    public HttpClient Anonymous { get; }

    /// <summary>A client presenting <paramref name="key"/>; dispose it.</summary>
    public HttpClient As(string? key) => TestKeys.Client(Http.BaseAddress!, key, TimeSpan.FromSeconds(10));
    public string ConnectionString => _connectionString;
    public IServiceProvider Services => _app.Services;

    /// <param name="keys">Configure <see cref="TestKeys"/> (one key per role); false: no key at all.</param>
    public static async Task<TestWorker> StartAsync(Db db, string? transport = "RabbitMq", IDictionary<string, string?>? extra = null,
        Action<IServiceCollection>? services = null, bool keys = true)
    {
        var virtualHost = transport == "RabbitMq" ? await TestServers.LeaseVirtualHostAsync() : null;
        // A copy of the migrated template: the worker's own migration at start finds nothing left to apply.
        var connectionString = await TestDatabases.CreateMigratedAsync(db == Db.Postgres ? StorageProvider.Postgres : StorageProvider.Sqlite);
        var folder = db == Db.Sqlite ? Path.GetDirectoryName(new SqliteConnectionStringBuilder(connectionString).DataSource) : null;
        var queue = "co-test-" + Guid.NewGuid().ToString("N")[..10];
        var settings = new Dictionary<string, string?>
        {
            ["Bus:Transport"] = transport,
            ["Bus:QueueName"] = queue,
            ["Bus:RetryLimit"] = "3",
            ["Bus:RabbitMq:Host"] = TestServers.RabbitHost,
            ["Bus:RabbitMq:Port"] = TestServers.RabbitPort.ToString(),
            ["Bus:RabbitMq:VirtualHost"] = virtualHost?.Name ?? "/",
            ["Storage:Provider"] = db.ToString(),
            ["Storage:ConnectionString"] = connectionString,
            ["Http:Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
            // The counting job often, so the funnel and results a test reads are current within a second.
            ["Funnel:RefreshInterval"] = "00:00:00.5",
        };
        if (keys)
            foreach (var (k, v) in TestKeys.Settings())
                settings[k] = v;
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
            settings[k] = v;
        try
        {
            var app = WorkerApp.Build([], settings, services) ?? throw new InvalidOperationException("invalid test configuration");
            await app.StartAsync();
            return new TestWorker(app, db, connectionString, queue, folder, transport, virtualHost);
        }
        catch
        {
            virtualHost?.Dispose();
            throw;
        }
    }

    /// <summary>Settings of a worker on the rules at <paramref name="rulesPath"/> that sends its mail to the SMTP sink (from news@shop.example).</summary>
    public static Dictionary<string, string?> Mailing(string rulesPath) => new()
    {
        ["Rules:Path"] = rulesPath,
        ["Email:From"] = "Shop <news@shop.example>",
        ["Email:Smtp:Port"] = TestServers.SmtpPort.ToString(),
    };

    /// <summary>Polls the read API until <paramref name="until"/> holds, or fails after 20 s saying what was last seen.</summary>
    public async Task<JsonObject> WaitForCustomerAsync(string id, Func<JsonObject, bool> until)
    {
        JsonObject? last = null;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var response = await Http.GetAsync($"/api/customers/{Uri.EscapeDataString(id)}");
            if (response.IsSuccessStatusCode)
            {
                last = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
                if (until(last))
                    return last;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"customer {id} did not reach the expected state in 20 s; last seen: {last?.ToJsonString() ?? "404"}");
        return null!;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Http.Dispose();
        Anonymous.Dispose();
        if (_transport == "RabbitMq")
        {
            // The queue is bound to journey-events with '#': left behind, it would collect every later event.
            try
            {
                await using var rabbit = await ShopAsync();
                await rabbit.DeleteQueuesAsync(Queue);
            }
            finally
            {
                _virtualHost?.Dispose();
            }
        }
        if (_db == Db.Postgres)
            await TestServers.DropPostgresDatabaseAsync(_connectionString);
        else
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(_sqliteFolder!, recursive: true); } catch (IOException) { }
        }
    }
}
