using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>
/// What the campaign tests share: a store on SQLite or PostgreSQL (a fresh database per test), the rules in use, the
/// journey store and the dispatcher on a fake clock (delays of days in milliseconds), and the reads a marketer would
/// check. Each theme derives from it once per database.
/// </summary>
public abstract class CampaignTestContext : IAsyncLifetime
{
    // Monday 2 November 2026, 10:00 in Amsterdam (CET, UTC+1).
    protected static readonly DateTimeOffset T = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    protected const string CartRules = """
        defaults:
          timeZone: Europe/Amsterdam
        campaigns:
          - id: cart-recovery
            trigger: { event: cart_abandoned }
            key: properties.cartId
            conditions: { all: [ { field: properties.cartValue, op: gte, value: 25 } ] }
            exitOn: [order_placed]
            reentry: { after: 30d }
            steps:
              - delay: 1h
                action: { kind: email, template: cart-reminder }
              - delay: 1h
                action: { kind: retargeting, audience: cart-abandoners }
              - delay: 24h
                action: { kind: offer, discountPercent: 10, validFor: 72h, template: cart-offer }
        """;

    protected readonly FakeTimeProvider _time = new(T);
    protected readonly RecordingChannel _channel = new();
    private protected readonly CampaignFailures _failures;
    protected string _connectionString = "";
    private protected Database _database = null!;
    private protected ActiveRules _rules = null!;
    private protected JourneyStore _store = null!;
    private protected ActionDispatcher _dispatcher = null!;
    private protected ActionStore _queries = null!;
    private protected PlacementQueries _placements = null!;

    protected abstract StorageProvider Provider { get; }

    /// <summary>An empty database (no schema), for the tests of upgrades.</summary>
    protected Task<string> CreateDatabaseAsync() => TestDatabases.CreateAsync(Provider);

    protected Task DropDatabaseAsync(string connectionString) => TestDatabases.DropAsync(Provider, connectionString);

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabases.CreateMigratedAsync(Provider);
        _database = new Database(Provider, _connectionString);
        _queries = new ActionStore(_database, NullLogger.Instance);
    }

    public async Task DisposeAsync()
    {
        _database.Dispose();
        await DropDatabaseAsync(_connectionString);
    }

    /// <param name="stored">Banners and offers through their channels (placements, codes), the rest recorded.</param>
    protected void Use(string yaml, bool stored = false) => Use(RulesParser.Parse(yaml, "test.yaml"), stored);

    /// <summary>Rules as given, without the parser's checks (what an older release may have accepted).</summary>
    private protected void Use(RuleSet ruleSet, bool stored = false)
    {
        _rules = new ActiveRules(new CompiledRules(ruleSet, "v1"), _time.GetUtcNow());
        _placements = new PlacementQueries(_database, _time, Options.Create(new PlacementOptions { Defaults = { ["home-hero"] = "house-default" } }));
        IActionChannel[] channels = stored
            ? [new BannerChannel(_time), new OfferChannel(_database, _time), new RetargetingChannel(_database, Options.Create(new RetargetingOptions()), _time), _channel]
            : [_channel];
        // As in the worker: a banner due at once is delivered in the journey transaction that plans it.
        _store = JourneyStore.Create(_database, _rules, _time, NullLogger<JourneyStore>.Instance,
            new ImmediateDelivery(channels, new ActionMetrics(), Options.Create(new SchedulingOptions()), NullLogger<ImmediateDelivery>.Instance), _failures);
        _dispatcher = TestDispatcher.Build(_database, _rules, channels, _store, _time);
    }

    protected static AcceptedEvent E(string id, string type, DateTimeOffset at, string? customer, JsonObject? properties = null, JsonObject? traits = null,
        string? device = null) =>
        new(id, type, at, customer, device, traits, properties, null);

    protected static JsonObject Consent(bool consent = true) => new() { ["emailConsent"] = consent };

    protected static JsonObject Cart(string cartId, decimal value = 80) => new() { ["cartId"] = cartId, ["cartValue"] = value };

    protected Task Consume(params AcceptedEvent[] events) => _store.ApplyAsync(events, default);

    /// <summary>Moves the clock and fires whatever fell due.</summary>
    protected async Task Advance(TimeSpan by)
    {
        _time.Advance(by);
        while (await _dispatcher.FireDueAsync(default) > 0) { }
    }

    protected async Task<IReadOnlyList<ActionView>> Actions(string customerId) =>
        (await _queries.ForProfileAsync("c:" + customerId, 1000, default)).OrderBy(a => a.CampaignId).ThenBy(a => a.Step).ToList();

    protected async Task<List<(string RoutingKey, JsonNode Body)>> Outbound(string routingKeyPrefix)
    {
        await using var connection = await _database.OpenAsync(default);
        return (await Dapper.SqlMapper.QueryAsync<(string RoutingKey, string Body)>(connection,
                "SELECT routing_key, body FROM outbox WHERE routing_key LIKE @p ORDER BY seq", new { p = routingKeyPrefix + "%" }))
            .Select(r => (r.RoutingKey, JsonNode.Parse(r.Body)!)).ToList();
    }

    protected async Task<List<(string Audience, string ProfileId, string EmailSha256)>> Members()
    {
        await using var connection = await _database.OpenAsync(default);
        return (await Dapper.SqlMapper.QueryAsync<(string, string, string)>(connection, "SELECT audience, profile_id, email_sha256 FROM audience_members ORDER BY profile_id")).ToList();
    }


    private protected TriggerScans Scans() => TriggerScans.Create(_database, _rules, _time, NullLogger<TriggerScans>.Instance, _failures);

    protected CampaignTestContext() => _failures = new CampaignFailures(_time);
}
