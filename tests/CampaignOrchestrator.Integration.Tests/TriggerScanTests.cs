using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>Triggers no event carries: the inactivity scan and cron schedules, and data written before the re-indexing upgrade.</summary>
public abstract class TriggerScanTests : CampaignTestContext
{
    [Fact]
    public async Task A_churn_rule_sends_a_lapsed_customer_back_to_awareness_where_the_welcome_campaign_finds_them()
    {
        Use("""
            campaigns:
              - id: churn
                trigger: { inactiveFor: 90d, inPhase: retention }
                steps:
                  - action: { kind: phase, set: awareness }
              - id: welcome
                trigger: { phaseEntered: awareness }
                reentry: { after: 1s }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: welcome }
            """);
        await Consume(E("v-1", "page_viewed", T, "rita"), E("o-1", "order_placed", T.AddMinutes(5), "rita"), E("d-1", "order_delivered", T.AddDays(2), "rita"));
        await Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["welcome"], _channel.Delivered.Select(d => d.CampaignId));   // the first visit

        await Advance(TimeSpan.FromDays(92));
        Assert.Equal(1, await Scans().ScanInactivityAsync(default));
        await Advance(TimeSpan.FromSeconds(1));     // the reset fires; the welcome it starts falls due
        await Advance(TimeSpan.FromSeconds(1));

        var reset = Assert.Single(await Actions("rita"), a => a.CampaignId == "churn");
        Assert.Equal("delivered", reset.Status);
        var journey = (await new JourneyReader(_database).GetAsync("rita", 100, default))!;
        Assert.Equal("awareness", journey.Phase);
        Assert.Equal(["awareness", "purchase", "retention", "awareness"], journey.PhaseHistory.Select(h => h.Phase));
        Assert.Contains(journey.Timeline, t => t.Type == "phase_reset" && (string?)t.Properties?["phase"] == "awareness");
        Assert.Equal(["welcome", "welcome"], _channel.Delivered.Select(d => d.CampaignId));

        // A late order from before the reset replays the history and keeps the reset after it.
        await Consume(E("o-0", "order_placed", T.AddDays(60), "rita"));
        journey = (await new JourneyReader(_database).GetAsync("rita", 100, default))!;
        Assert.Equal("awareness", journey.Phase);
        Assert.Equal(["awareness", "purchase", "retention", "loyalty", "awareness"], journey.PhaseHistory.Select(h => h.Phase));
    }

    [Fact]
    public async Task Inactivity_is_found_by_the_scan_once_per_quiet_period_and_activity_ends_what_it_started()
    {
        Use("""
            campaigns:
              - id: win-back
                trigger: { inactiveFor: 60d, inPhase: purchase }
                reentry: { after: 1d }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: we-miss-you }
                  - delay: 7d
                    action: { kind: banner, slot: home-hero, creative: last-chance }
            """);
        await Consume(E("o-1", "order_placed", T, "nora"), E("v-1", "product_viewed", T, "otto"), E("o-2", "order_placed", T.AddDays(10), "piet"));
        var scans = Scans();
        Assert.Equal(0, await scans.ScanInactivityAsync(default));

        await Advance(TimeSpan.FromDays(60));
        Assert.Equal(2, await scans.ScanInactivityAsync(default));            // nora, 60 days quiet; otto is not in purchase
        Assert.Equal(0, await scans.ScanInactivityAsync(default));            // the same quiet period is not found twice
        await Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["nora"], _channel.Delivered.Select(d => d.CustomerId));
        Assert.Empty(await Actions("otto"));

        // Nora comes back: the pending second step ends. Piet goes quiet later and is found then.
        await Consume(E("v-2", "product_viewed", T.AddDays(61), "nora"));
        var last = (await Actions("nora")).Single(a => a.Step == 2);
        Assert.Equal(("cancelled", "v-2"), (last.Status, last.CauseEventId));
        await Advance(TimeSpan.FromDays(10));
        Assert.Equal(2, await scans.ScanInactivityAsync(default));
        Assert.Equal(2, (await Actions("piet")).Count);
    }

    [Fact]
    public async Task Actions_and_their_log_written_before_the_reindexing_upgrade_keep_their_life_and_their_dedup()
    {
        var connectionString = await CreateDatabaseAsync();
        try
        {
            // A pending and a cancelled step as the release before migration 0005 stored them (no seq on the log).
            using (var old = new Database(Provider, connectionString))
            {
                await new SchemaMigrator(old, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default, upTo: "0004_seen_hour");
                await using var connection = await old.OpenAsync(default);
                await Dapper.SqlMapper.ExecuteAsync(connection, """
                    INSERT INTO scheduled_actions (action_id, campaign_id, step, profile_id, instance_key, trigger_id, triggered_at, cause, kind, channel, settings,
                        variant, holdout, transactional, priority, rules_version, fingerprint, planned_at, due_at, status, finished_at, reason, cause_event_id, created_at)
                    VALUES ('a-1', 'cart-recovery', 1, 'c:anna', 'cart-9', 'c-1', '2026-11-02 09:00:00', 'event cart_abandoned', 'email', 'email', '{"template":"cart-reminder"}',
                            0, false, false, 0, 'v0', 'f0', '2026-11-02 10:00:00', '2026-11-02 10:00:00', 'pending', NULL, NULL, NULL, '2026-11-02 09:00:00'),
                           ('a-2', 'cart-recovery', 2, 'c:anna', 'cart-9', 'c-1', '2026-11-02 09:00:00', 'event cart_abandoned', 'retargeting', 'retargeting', '{}',
                            0, false, false, 0, 'v0', 'f0', '2026-11-02 11:00:00', '2026-11-02 11:00:00', 'cancelled', '2026-11-02 09:30:00', 'exit: order_placed', 'o-0', '2026-11-02 09:00:00');
                    INSERT INTO action_log (action_id, campaign_id, step, profile_id, kind, outcome, at, due_at, next_due_at, reason, cause_event_id, rules_version, variant, late_ms)
                    VALUES ('a-2', 'cart-recovery', 2, 'c:anna', 'retargeting', 'cancelled', '2026-11-02 09:30:00', '2026-11-02 11:00:00', NULL, 'exit: order_placed', 'o-0', 'v0', 0, NULL);
                    """);
            }

            using var upgraded = new Database(Provider, connectionString);
            await new SchemaMigrator(upgraded, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
            var actions = (await new ActionStore(upgraded, NullLogger.Instance).ForProfileAsync("c:anna", 100, default)).OrderBy(a => a.Step).ToList();
            Assert.Equal(["a-1", "a-2"], actions.Select(a => a.ActionId));
            Assert.Equal(["scheduled"], actions[0].Log.Select(l => l.Outcome));
            Assert.Equal(["scheduled", "cancelled"], actions[1].Log.Select(l => l.Outcome));
            Assert.Equal("o-0", actions[1].Log[1].CauseEventId);

            // The same step planned again is still recognised; a new one is added beside it.
            await using var connection2 = await upgraded.OpenAsync(default);
            var insert = "INSERT INTO scheduled_actions (action_id, campaign_id, step, profile_id, trigger_id, triggered_at, cause, kind, channel, settings, variant, holdout, " +
                "transactional, priority, rules_version, fingerprint, planned_at, due_at, status, created_at) VALUES (@id, 'cart-recovery', 1, 'c:anna', 'c-1', @t, 'x', 'email', " +
                $"'email', '{{}}', 0, false, false, 0, 'v1', 'f1', @t, @t, 'pending', @t) {ActionStore.Conflict}";
            Assert.Equal(0, await Dapper.SqlMapper.ExecuteAsync(connection2, insert, new { id = "a-1", t = T }));
            Assert.Equal(1, await Dapper.SqlMapper.ExecuteAsync(connection2, insert, new { id = "a-3", t = T }));
        }
        finally
        {
            await DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task Inactivity_within_the_cutoffs_own_hour_is_found_when_it_is_long_enough_and_only_once()
    {
        // The scan reads customers by the hour of their last activity; the cutoff's own hour is read again by the
        // next scan. Ada was last seen at 9:10 (after two visits in that hour), Bo at 9:40, Cas at 11:05.
        Use("""
            campaigns:
              - id: nudge
                trigger: { inactiveFor: 1d }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: come-back }
            """);
        await Consume(E("a-1", "product_viewed", T, "ada"), E("a-2", "product_viewed", T.AddMinutes(10), "ada"),
            E("b-1", "product_viewed", T.AddMinutes(40), "bo"), E("c-1", "product_viewed", T.AddHours(2).AddMinutes(5), "cas"));
        var scans = Scans();

        _time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(20));            // cutoff 9:20
        Assert.Equal(1, await scans.ScanInactivityAsync(default));
        Assert.Equal(T.AddMinutes(10).AddDays(1), Assert.Single(await Actions("ada")).DueAt);   // from her last visit, not the first
        Assert.Empty(await Actions("bo"));

        _time.Advance(TimeSpan.FromMinutes(10));                                    // cutoff 9:30: nobody new
        Assert.Equal(0, await scans.ScanInactivityAsync(default));
        _time.Advance(TimeSpan.FromMinutes(15));                                    // cutoff 9:45: Bo
        Assert.Equal(1, await scans.ScanInactivityAsync(default));
        Assert.Single(await Actions("bo"));
        _time.Advance(TimeSpan.FromHours(2));                                       // cutoff 11:45: Cas, in a later hour
        Assert.Equal(1, await scans.ScanInactivityAsync(default));
        Assert.Single(await Actions("cas"));
        Assert.Single(await Actions("ada"));
        Assert.Single(await Actions("bo"));
    }

    [Fact]
    public async Task A_schedule_starts_its_campaign_for_the_segment_at_each_firing_once()
    {
        Use("""
            campaigns:
              - id: digest
                trigger: { schedule: "0 0 9 ? * MON", segment: { all: [ { field: phase, op: eq, value: loyalty } ] } }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: digest }
            """);
        await Consume(E("o-1", "order_placed", T, "quinn"), E("o-2", "order_placed", T.AddMinutes(1), "quinn"), E("o-3", "order_placed", T, "rosa"));
        var scans = Scans();
        var monday = new DateTimeOffset(2026, 11, 9, 8, 0, 0, TimeSpan.Zero);
        Assert.Equal(1, await scans.RunScheduleAsync("digest", monday, default));
        Assert.Equal(0, await scans.RunScheduleAsync("digest", monday, default)); // the same firing again (recovery) adds nothing
        Assert.Equal(1, await scans.RunScheduleAsync("digest", monday.AddDays(7), default));
        Assert.Equal(2, (await Actions("quinn")).Count);
        Assert.Empty(await Actions("rosa"));
        Assert.Equal(0, await scans.RunScheduleAsync("no-such-campaign", monday, default));
    }
}

public sealed class SqliteTriggerScanTests : TriggerScanTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresTriggerScanTests : TriggerScanTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
