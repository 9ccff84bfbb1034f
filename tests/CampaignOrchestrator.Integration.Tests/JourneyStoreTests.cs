using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>The same repository tests on SQLite and PostgreSQL (a subclass each).</summary>
public abstract class JourneyStoreTests : IAsyncLifetime
{
    static readonly DateTimeOffset T = new(2026, 11, 1, 10, 0, 0, TimeSpan.FromHours(1));
    readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero));
    string _connectionString = "";
    Database _database = null!;
    JourneyStore _store = null!;

    protected abstract StorageProvider Provider { get; }

    Task<string> CreateDatabaseAsync() => TestDatabases.CreateAsync(Provider);

    Task DropDatabaseAsync(string connectionString) => TestDatabases.DropAsync(Provider, connectionString);

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabases.CreateMigratedAsync(Provider);
        _database = new Database(Provider, _connectionString);
        _store = NewStore();
    }

    public Task DisposeAsync()
    {
        _database.Dispose();
        return DropDatabaseAsync(_connectionString);
    }

    JourneyStore NewStore() => JourneyStore.Create(_database, new CampaignOrchestrator.Infrastructure.Rules.ActiveRules(CampaignOrchestrator.Infrastructure.Rules.ActiveRules.None, _time.GetUtcNow()), _time, NullLogger<JourneyStore>.Instance);

    static AcceptedEvent E(string id, string type, int minutes, string? customer = null, string? device = null, JsonObject? traits = null) =>
        new(id, type, T.AddMinutes(minutes), customer, device, traits, new JsonObject { ["n"] = minutes }, null);

    Task<BatchResult> Apply(params AcceptedEvent[] events) => _store.ApplyAsync(events, default);

    async Task<JourneyView> Get(string id) => await _store.GetAsync(id, 1000, default) ?? throw new Xunit.Sdk.XunitException($"no journey for {id}");

    [Fact]
    public async Task Migrations_are_recorded_and_applied_once()
    {
        var again = await new SchemaMigrator(_database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
        Assert.Equal(0, again);
    }

    [Fact]
    public async Task A_database_an_earlier_release_made_is_upgraded_with_its_journeys()
    {
        var connectionString = await CreateDatabaseAsync();
        try
        {
            // The first release's schema only, and a journey as that release wrote it (rows as it stored them:
            // this release's store writes columns the first schema lacks).
            var database = new Database(Provider, connectionString);
            Assert.Equal(1, await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default, upTo: "0001_journeys"));
            await using (var connection = await database.OpenAsync(default))
            {
                await Dapper.SqlMapper.ExecuteAsync(connection, """
                    INSERT INTO profiles (profile_id, customer_id, traits, trait_times, phase, phase_since, order_count, event_count, first_seen, last_seen, updated_at)
                    VALUES ('c:cust-u', 'cust-u', '{"locale":"nl-NL"}', '{"locale":"2026-03-01T10:01:00.0000000Z"}', 'purchase', '2026-03-01 10:02:00',
                            1, 3, '2026-03-01 10:00:00', '2026-03-01 10:02:00', '2026-03-01 10:03:00');
                    INSERT INTO anonymous_links (anonymous_id, customer_id, linked_at, event_id) VALUES ('dev-u', 'cust-u', '2026-03-01 10:01:00', 'u2');
                    INSERT INTO events (event_id, profile_id, type, occurred_at, received_at, customer_id, anonymous_id, traits, properties, context) VALUES
                        ('u1', 'c:cust-u', 'page_viewed', '2026-03-01 10:00:00', '2026-03-01 10:03:00', NULL, 'dev-u', NULL, '{"n":0}', NULL),
                        ('u2', 'c:cust-u', 'identified', '2026-03-01 10:01:00', '2026-03-01 10:03:00', 'cust-u', 'dev-u', '{"locale":"nl-NL"}', '{"n":1}', NULL),
                        ('u3', 'c:cust-u', 'order_placed', '2026-03-01 10:02:00', '2026-03-01 10:03:00', 'cust-u', NULL, NULL, '{"n":2}', NULL);
                    INSERT INTO phase_history (profile_id, event_id, phase, occurred_at) VALUES
                        ('c:cust-u', 'u1', 'awareness', '2026-03-01 10:00:00'), ('c:cust-u', 'u3', 'purchase', '2026-03-01 10:02:00');
                    """);
            }
            database.Dispose();

            // This release's migrations upgrade it in place.
            using var upgraded = new Database(Provider, connectionString);
            Assert.True(await new SchemaMigrator(upgraded, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default) >= 1);
            var after = JourneyStore.Create(upgraded, new CampaignOrchestrator.Infrastructure.Rules.ActiveRules(CampaignOrchestrator.Infrastructure.Rules.ActiveRules.None, _time.GetUtcNow()), _time, NullLogger<JourneyStore>.Instance);
            var journey = await after.GetAsync("dev-u", 100, default) ?? throw new Xunit.Sdk.XunitException("journey lost in the upgrade");
            Assert.Equal("cust-u", journey.CustomerId);
            Assert.Equal(["u1", "u2", "u3"], journey.Timeline.Select(t => t.EventId));
            Assert.Equal("purchase", journey.Phase);
            Assert.Equal("nl-NL", (string?)journey.Traits["locale"]);
            Assert.Equal(0, (int?)journey.Timeline[0].Properties!["n"]);

            // The inactivity scan finds the upgraded customer by the hour of activity the upgrade filled in.
            var quiet = new CampaignOrchestrator.Infrastructure.Rules.ActiveRules(new CampaignOrchestrator.Core.Campaigns.CompiledRules(
                CampaignOrchestrator.Core.Rules.RulesParser.Parse("""
                    campaigns:
                      - id: nudge
                        trigger: { inactiveFor: 1d }
                        steps:
                          - action: { kind: banner, slot: home-hero, creative: come-back }
                    """, "quiet.yaml"), "v1"), _time.GetUtcNow());
            var scanStore = JourneyStore.Create(upgraded, quiet, _time, NullLogger<JourneyStore>.Instance);
            Assert.Equal(1, await CampaignOrchestrator.Infrastructure.Campaigns.TriggerScans.Create(upgraded, quiet, _time,
                NullLogger<CampaignOrchestrator.Infrastructure.Campaigns.TriggerScans>.Instance).ScanInactivityAsync(default));

            // And keeps working: a later event lands on the same journey.
            await after.ApplyAsync([E("u4", "order_placed", 3, customer: "cust-u")], default);
            Assert.Equal("loyalty", (await after.GetAsync("cust-u", 100, default))!.Phase);
        }
        finally
        {
            await DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task A_seen_eventId_changes_nothing_within_a_batch_or_across_batches()
    {
        var first = await Apply(E("e1", "order_placed", 0, "c1"), E("e1", "order_placed", 0, "c1"));
        var second = await Apply(E("e1", "order_placed", 0, "c1"), E("e2", "page_viewed", 1, "c1"));
        Assert.Equal([true, false], first.Stored);
        Assert.Equal([false, true], second.Stored);
        var j = await Get("c1");
        Assert.Equal(2, j.EventCount);
        Assert.Equal(1, j.OrderCount);
        Assert.Equal(2, j.Timeline.Count);
    }

    [Fact]
    public async Task Timeline_and_history_follow_occurredAt_not_arrival()
    {
        await Apply(E("e3", "order_placed", 30, "c1"));
        await Apply(E("e1", "page_viewed", 0, "c1"));
        await Apply(E("e2", "product_viewed", 10, "c1"));
        var j = await Get("c1");
        Assert.Equal(["e1", "e2", "e3"], j.Timeline.Select(t => t.EventId));
        Assert.Equal(["awareness", "consideration", "purchase"], j.PhaseHistory.Select(h => h.Phase));
        Assert.Equal(["e1", "e2", "e3"], j.PhaseHistory.Select(h => h.EventId));
        Assert.Equal("purchase", j.Phase);
        Assert.Equal(T.AddMinutes(30), j.PhaseSince);
        Assert.Equal(T, j.FirstSeen);
        Assert.Equal(T.AddMinutes(30), j.LastSeen);
    }

    [Fact]
    public async Task A_second_order_means_loyalty_even_when_the_first_order_arrives_late()
    {
        await Apply(E("o2", "order_placed", 60, "c1"));
        Assert.Equal("purchase", (await Get("c1")).Phase);
        await Apply(E("o1", "order_placed", 0, "c1"));
        var j = await Get("c1");
        Assert.Equal("loyalty", j.Phase);
        Assert.Equal(["purchase", "loyalty"], j.PhaseHistory.Select(h => h.Phase));
        Assert.Equal(["o1", "o2"], j.PhaseHistory.Select(h => h.EventId));
        Assert.Equal(2, j.OrderCount);
    }

    [Fact]
    public async Task Traits_keep_the_newest_value_per_key_by_occurredAt()
    {
        await Apply(E("e2", "page_viewed", 20, "c1", traits: new JsonObject { ["firstName"] = "Anna", ["emailConsent"] = false }));
        await Apply(E("e1", "page_viewed", 10, "c1", traits: new JsonObject { ["firstName"] = "Ann", ["country"] = "NL" }));
        var traits = (await Get("c1")).Traits;
        Assert.Equal("Anna", (string?)traits["firstName"]);
        Assert.False((bool)traits["emailConsent"]!);
        Assert.Equal("NL", (string?)traits["country"]);
    }

    [Fact]
    public async Task Devices_merge_into_the_customer_and_later_device_events_land_there()
    {
        await Apply(E("p1", "ad_clicked", 0, device: "phone"), E("p2", "product_viewed", 5, device: "phone", traits: new JsonObject { ["locale"] = "nl-NL" }));
        await Apply(E("l1", "page_viewed", 1, device: "laptop"));
        Assert.Equal("consideration", (await Get("phone")).Phase);

        await Apply(E("i1", "identified", 60, "c1", "phone"), E("i2", "identified", 61, "c1", "laptop"));
        await Apply(E("p3", "cart_updated", 70, device: "phone"));

        var j = await Get("c1");
        Assert.Equal("c1", j.CustomerId);
        Assert.Equal(["phone", "laptop"], j.AnonymousIds);
        Assert.Equal(["p1", "l1", "p2", "i1", "i2", "p3"], j.Timeline.Select(t => t.EventId));
        Assert.Equal(["awareness", "consideration", "purchase"], j.PhaseHistory.Select(h => h.Phase));
        Assert.Equal("nl-NL", (string?)j.Traits["locale"]);
        Assert.Equal(6, j.EventCount);
        Assert.Equal("c1", (await Get("phone")).CustomerId);
        Assert.Equal("c1", (await Get("laptop")).CustomerId);
    }

    [Fact]
    public async Task A_device_linked_in_the_same_batch_as_its_browsing_is_one_journey()
    {
        await Apply(E("p1", "product_viewed", 0, device: "tablet"), E("i1", "identified", 5, "c9", "tablet"), E("p2", "checkout_started", 6, device: "tablet"));
        var j = await Get("tablet");
        Assert.Equal("c9", j.CustomerId);
        Assert.Equal(3, j.EventCount);
        Assert.Equal("purchase", j.Phase);
    }

    [Fact]
    public async Task A_device_stays_with_the_first_customer_it_was_linked_to()
    {
        await Apply(E("i1", "identified", 0, "c1", "shared-pc"));
        await Apply(E("i2", "identified", 5, "c2", "shared-pc"), E("d1", "page_viewed", 6, device: "shared-pc"));
        Assert.Equal(2, (await Get("c1")).EventCount);
        Assert.Equal(1, (await Get("c2")).EventCount);
    }

    [Fact]
    public async Task Concurrent_writers_lose_nothing()
    {
        // Several stores (as several workers would) write interleaved events of the same customers.
        var stores = Enumerable.Range(0, Provider == StorageProvider.Postgres ? 4 : 2).Select(_ => NewStore()).ToArray();
        await Task.WhenAll(stores.Select((store, w) => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
                await store.ApplyAsync([E($"w{w}-{i}", i % 5 == 0 ? "order_placed" : "page_viewed", i, $"c{i % 3}")], default);
        })));
        var total = 0;
        for (var c = 0; c < 3; c++)
        {
            var j = await Get($"c{c}");
            Assert.Equal(j.Timeline.Count, j.EventCount);
            Assert.Equal(j.Timeline.Count(t => t.Type == "order_placed"), j.OrderCount);
            total += j.EventCount;
        }
        Assert.Equal(stores.Length * 25, total);
    }
}

public sealed class SqliteJourneyStoreTests : JourneyStoreTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresJourneyStoreTests : JourneyStoreTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
