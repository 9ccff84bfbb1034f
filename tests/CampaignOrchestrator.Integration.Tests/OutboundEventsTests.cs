using static CampaignOrchestrator.Integration.Tests.Support.CampaignActionsListener;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// What the webshop's other systems hear (wire contract: the campaign-actions exchange): a delivered action is
/// published once, with the contract's fields, through the outbox; a broker that cannot be reached loses nothing.
/// </summary>
public sealed class OutboundEventsTests : IDisposable
{
    readonly RulesFolder _rules = new("banners.yaml", """
        campaigns:
          - id: award-banner
            trigger: { phaseEntered: awareness }
            steps:
              - action: { kind: banner, slot: home-hero, creative: award-2026, ttl: 14d }
        """);

    public void Dispose() => _rules.Dispose();

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_delivered_banner_is_published_once_as_banner_assigned_with_the_contracts_fields(Db db)
    {
        await using var worker = await TestWorker.StartAsync(db, extra: new Dictionary<string, string?> { ["Rules:Path"] = _rules.Path });
        var (connection, channel, queue) = await worker.ListenAsync("banner.*");
        await using var _ = connection;
        await using var shop = await worker.ShopAsync();
        var customer = "outbound-" + Guid.NewGuid().ToString("N")[..8];
        var eventId = Events.Id("outbound");
        await shop.PublishAsync(Events.Json("page_viewed", eventId, DateTimeOffset.UtcNow.AddMinutes(-1), customer));

        var mine = (List<BasicGetResult> r) => r.Count(m => (string?)Body(m)["customerId"] == customer);
        var received = await ReceiveAsync(channel, queue, r => mine(r) >= 1, TimeSpan.FromSeconds(20));
        var message = Assert.Single(received, m => (string?)Body(m)["customerId"] == customer);
        // Anything more for this customer would be a duplicate.
        received.AddRange(await ReceiveAsync(channel, queue, _ => false, TimeSpan.FromSeconds(1.5)));
        Assert.Equal(1, mine(received));

        var body = Body(message);
        var journey = await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Any(a => (string?)a!["status"] == "delivered"));
        var action = journey["actions"]!.AsArray().Single()!;
        Assert.Equal("banner.assigned", message.RoutingKey);
        Assert.Equal("banner.assigned:" + (string)action["actionId"]!, message.BasicProperties.MessageId);
        Assert.Equal(DeliveryModes.Persistent, message.BasicProperties.DeliveryMode);
        Assert.Equal("application/json", message.BasicProperties.ContentType);
        Assert.Equal((string?)action["actionId"], (string?)body["actionId"]);
        Assert.Equal(("award-banner", 1, "awareness", eventId), ((string?)body["campaignId"], (int)body["step"]!, (string?)body["phase"], (string?)body["causeEventId"]));
        Assert.Equal(("home-hero", "award-2026"), ((string?)body["slot"], (string?)body["creative"]));
        Assert.Equal((DateTimeOffset)body["occurredAt"]! + TimeSpan.FromDays(14), (DateTimeOffset)body["expiresAt"]!);

        // Published rows are gone (read beside the worker, which holds the SQLite file's writer lock).
        await using System.Data.Common.DbConnection store = db == Db.Postgres
            ? new Npgsql.NpgsqlConnection(worker.ConnectionString) : new Microsoft.Data.Sqlite.SqliteConnection(worker.ConnectionString);
        await store.OpenAsync();
        Assert.Equal(0L, await store.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox"));
    }

    [Fact]
    public async Task Events_wait_in_the_outbox_while_the_broker_cannot_be_reached_and_go_out_once_it_can()
    {
        var folder = Directory.CreateTempSubdirectory("co-outbox-").FullName;
        try
        {
            var database = new Database(StorageProvider.Sqlite, $"Data Source={Path.Combine(folder, "outbox.db")}");
            await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
            var id = Guid.NewGuid().ToString("N");
            await using (var connection = await database.OpenAsync(default))
            {
                await using var tx = await connection.BeginTransactionAsync();
                await Outbox.AppendAsync(connection, tx, database.Dialect, [new Contracts.Outbound.BannerAssigned("act-" + id, "award-banner", 1, "ola", null,
                    "awareness", DateTimeOffset.UtcNow, "evt-" + id, 0, "home-hero", "award-2026", null)], default);
                await tx.CommitAsync();
            }
            using var virtualHost = await TestServers.LeaseVirtualHostAsync();
            var (listener, channel, queue) = await ListenAsync("banner.assigned", virtualHost.Name);
            await using var _ = listener;

            BusOptions Bus(int port) => new() { RabbitMq = { Host = TestServers.RabbitHost, Port = port, VirtualHost = virtualHost.Name } };
            var unreachable = new OutboxPublisher(database, new OutboxSignal(), Options.Create(Bus(1)), NullLogger<OutboxPublisher>.Instance);
            await Assert.ThrowsAnyAsync<Exception>(() => unreachable.PublishBatchAsync(default));
            await using (var connection = await database.OpenAsync(default))
                Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox"));   // kept

            var publisher = new OutboxPublisher(database, new OutboxSignal(), Options.Create(Bus(TestServers.RabbitPort)), NullLogger<OutboxPublisher>.Instance);
            Assert.Equal(1, await publisher.PublishBatchAsync(default));
            Assert.Equal(0, await publisher.PublishBatchAsync(default));                                   // nothing twice
            var received = await ReceiveAsync(channel, queue, r => r.Count >= 1, TimeSpan.FromSeconds(10));
            Assert.Equal("act-" + id, (string?)Body(Assert.Single(received))["actionId"]);
            database.Dispose();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }
}
