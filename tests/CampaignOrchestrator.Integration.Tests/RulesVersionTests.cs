using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// A new rules version and the steps already pending: changed campaigns finish under their version
/// (or exit with <c>onChange: exit</c>), removed campaigns' steps are cancelled and recorded, and a
/// refused change keeps the version in force.
/// </summary>
public sealed class RulesVersionTests : IAsyncLifetime
{
    static readonly DateTimeOffset T = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
    readonly FakeTimeProvider _time = new(T);
    string _connectionString = "";
    /// <summary>The store's own folder (removed with it): the rules files go there too.</summary>
    string _folder => Path.GetDirectoryName(new SqliteConnectionStringBuilder(_connectionString).DataSource)!;
    readonly RecordingChannel _channel = new();
    Database _database = null!;
    ActiveRules _rules = null!;
    RulesWatcher _watcher = null!;
    JourneyStore _store = null!;
    ActionDispatcher _dispatcher = null!;

    static string Rules(string template, string onChange = "finish", bool withBanner = true) => $$"""
        campaigns:
          - id: reminder
            trigger: { event: product_viewed }
            onChange: {{onChange}}
            steps:
              - delay: 1d
                action: { kind: email, template: {{template}} }
        """ + (withBanner ? """

          - id: banner
            trigger: { event: product_viewed }
            steps:
              - delay: 1d
                action: { kind: banner, slot: home-hero, creative: spring }
        """ : "");

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabases.CreateMigratedAsync(StorageProvider.Sqlite);
        _database = new Database(StorageProvider.Sqlite, _connectionString);
    }

    public Task DisposeAsync()
    {
        _database.Dispose();
        return TestDatabases.DropAsync(StorageProvider.Sqlite, _connectionString);
    }

    async Task Start(string yaml)
    {
        Directory.CreateDirectory(Path.Combine(_folder, "rules"));
        await File.WriteAllTextAsync(Path.Combine(_folder, "rules", "campaigns.yaml"), yaml);
        var loaded = RulesFiles.Load(Path.Combine(_folder, "rules"));
        _rules = new ActiveRules(new CompiledRules(loaded.Rules, loaded.Version), _time.GetUtcNow(), Path.Combine(_folder, "rules"), loaded.Files);
        _watcher = new RulesWatcher(_rules, _database, new ActionStore(_database, NullLogger.Instance), Options.Create(new RulesOptions { Watch = false }), _time, NullLogger<RulesWatcher>.Instance);
        await _watcher.StartAsync(default);
        _store = JourneyStore.Create(_database, _rules, _time, NullLogger<JourneyStore>.Instance);
        _dispatcher = TestDispatcher.Build(_database, _rules, [_channel], _store, _time);
    }

    async Task Change(string yaml)
    {
        await File.WriteAllTextAsync(Path.Combine(_folder, "rules", "campaigns.yaml"), yaml);
        await _watcher.ReloadAsync(default);
    }

    Task View(string id, string customer) =>
        _store.ApplyAsync([new AcceptedEvent(id, "product_viewed", _time.GetUtcNow(), customer, null, new JsonObject { ["emailConsent"] = true }, null, null)], default);

    async Task<IReadOnlyList<ActionView>> Actions(string customer) => await new ActionStore(_database, NullLogger.Instance).ForProfileAsync("c:" + customer, 100, default);

    [Fact]
    public async Task A_changed_campaign_finishes_pending_steps_under_the_version_they_started_with()
    {
        await Start(Rules("old-template"));
        var first = _rules.Current.Version;
        await View("v-1", "anna");
        await Change(Rules("new-template"));
        Assert.NotEqual(first, _rules.Current.Version);
        await View("v-2", "ben");

        _time.Advance(TimeSpan.FromDays(1));
        while (await _dispatcher.FireDueAsync(default) > 0) { }
        var sent = _channel.Delivered.Where(d => d.Kind == "email").ToDictionary(d => d.CustomerId!, d => ((string?)d.Settings["template"], d.RulesVersion));
        Assert.Equal(("old-template", first), sent["anna"]);
        Assert.Equal(("new-template", _rules.Current.Version), sent["ben"]);
    }

    [Fact]
    public async Task A_campaign_that_exits_on_change_and_a_removed_campaign_cancel_their_pending_steps_and_say_why()
    {
        await Start(Rules("old-template", onChange: "exit"));
        await View("v-1", "cleo");
        await Change(Rules("new-template", onChange: "exit", withBanner: false));

        var actions = await Actions("cleo");
        var reminder = actions.Single(a => a.CampaignId == "reminder");
        Assert.Equal("cancelled", reminder.Status);
        Assert.Contains("campaign changed in rules version " + _rules.Current.Version, reminder.Reason);
        var banner = actions.Single(a => a.CampaignId == "banner");
        Assert.Equal("cancelled", banner.Status);
        Assert.Equal("campaign removed in rules version " + _rules.Current.Version, banner.Reason);
        Assert.Equal(["scheduled", "cancelled"], banner.Log.Select(l => l.Outcome));
        _time.Advance(TimeSpan.FromDays(2));
        while (await _dispatcher.FireDueAsync(default) > 0) { }
        Assert.Empty(_channel.Delivered);
    }

    [Fact]
    public async Task A_refused_change_keeps_the_version_in_force_and_says_why()
    {
        await Start(Rules("old-template"));
        var version = _rules.Current.Version;
        await Change(Rules("x").Replace("delay: 1d", "delay: soon"));

        Assert.Equal(version, _rules.Current.Version);
        var refusal = _rules.Status.LastRefusal ?? throw new Xunit.Sdk.XunitException("no refusal recorded");
        Assert.Contains(refusal.Errors, e => e.Contains("campaigns.yaml:6:") && e.Contains("'reminder'") && e.Contains("soon"));
        await View("v-1", "dana");
        Assert.Equal(2, (await Actions("dana")).Count);

        // Fixed: the new version takes over and the refusal is gone.
        await Change(Rules("fixed"));
        Assert.NotEqual(version, _rules.Current.Version);
        Assert.Null(_rules.Status.LastRefusal);
    }
}
