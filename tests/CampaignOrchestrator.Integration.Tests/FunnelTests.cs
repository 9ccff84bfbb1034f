using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Privacy;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// The connected funnel from its kept counters, against a scripted journey set whose counts are known: 20 buyers, 10 browsers,
/// 5 cross-device shoppers who order twice (their anonymous browsing merged in), 3 whose first visit arrives late.
/// </summary>
public abstract class FunnelTests : CampaignTestContext
{
    const int Buyers = 20, Browsers = 10, CrossDevice = 5, Late = 3;
    static readonly DateTimeOffset From = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    static readonly DateTimeOffset To = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    FunnelCounters Counters() => new(_database, new CampaignResults(_database), _rules, _time, NullLogger<FunnelCounters>.Instance) { PageSize = 37 };

    Task<FunnelView> Read(string model = "five-phase", bool? cross = null, Condition? segment = null, DateTimeOffset? from = null) =>
        Counters().ReadAsync(PhaseVocabulary.All[model], from ?? From, To, cross, segment, 100_000, default);

    static AcceptedEvent Anon(string id, string type, DateTimeOffset at, string device, string? customer = null) =>
        new(id, type, at, customer, device, null, null, null);

    static (long Reached, long Now, long Converted) Of(FunnelView view, string phase) =>
        view.Phases.Single(p => p.Phase == phase) is var p ? (p.Reached, p.Now, p.ConvertedToNext) : default;

    async Task LoadAsync()
    {
        Use("campaigns: []");
        for (var i = 0; i < Buyers; i++)
        {
            var c = $"buyer-{i}";
            await Consume(
                E($"{c}-1", "page_viewed", T, c, traits: new JsonObject { ["persona"] = "runner" }),
                E($"{c}-2", "product_viewed", T.AddHours(1), c),
                E($"{c}-3", "cart_updated", T.AddHours(2), c),
                E($"{c}-4", "checkout_started", T.AddHours(3), c),
                E($"{c}-5", "order_placed", T.AddHours(4), c, new JsonObject { ["orderId"] = c, ["total"] = 50 }),
                E($"{c}-6", "order_delivered", T.AddDays(3), c));
        }
        for (var i = 0; i < Browsers; i++)
            await Consume(E($"browser-{i}-1", "page_viewed", T, $"browser-{i}"), E($"browser-{i}-2", "product_viewed", T.AddHours(1), $"browser-{i}"));
        // Counted once before the late and merged events arrive: the job must correct what it counted.
        await Counters().RefreshAsync(default);
        for (var i = 0; i < CrossDevice; i++)
        {
            var c = $"cross-{i}";
            await Consume(Anon($"{c}-1", "page_viewed", T, $"phone-{i}"), Anon($"{c}-2", "product_viewed", T.AddHours(1), $"phone-{i}"));
            await Counters().RefreshAsync(default);
            await Consume(
                Anon($"{c}-3", "identified", T.AddDays(1), $"phone-{i}", c),
                Anon($"{c}-4", "cart_updated", T.AddDays(1).AddHours(1), $"laptop-{i}", c),
                E($"{c}-5", "order_placed", T.AddDays(1).AddHours(2), c, new JsonObject { ["orderId"] = c + "a", ["total"] = 30 }),
                E($"{c}-6", "order_placed", T.AddDays(20), c, new JsonObject { ["orderId"] = c + "b", ["total"] = 30 }));
        }
        for (var i = 0; i < Late; i++)
            await Consume(E($"late-{i}-2", "product_viewed", T.AddDays(1), $"late-{i}"));
        await Counters().RefreshAsync(default);
        for (var i = 0; i < Late; i++)
            await Consume(E($"late-{i}-1", "page_viewed", T, $"late-{i}"));
        await Counters().RefreshAsync(default);
    }

    [Fact]
    public async Task The_five_phase_funnel_counts_every_customer_once_with_late_events_and_merged_devices_corrected()
    {
        await LoadAsync();
        var view = await Read();
        Assert.Equal(["awareness", "consideration", "purchase", "retention", "loyalty"], view.Phases.Select(p => p.Phase));
        Assert.Equal((38L, 0L, 38L), Of(view, "awareness"));
        Assert.Equal((38L, 13L, 25L), Of(view, "consideration"));
        Assert.Equal((25L, 0L, 25L), Of(view, "purchase"));
        Assert.Equal((20L, 20L, 0L), Of(view, "retention"));
        Assert.Equal((5L, 5L, 0L), Of(view, "loyalty"));
        Assert.Equal(38, view.Customers);
        Assert.Equal(0.6579, view.Phases[1].ConversionRate);

        // Awareness -> consideration took 1 hour for 35, a day for the 3 late ones: median and p90 in the 30-60 min bucket.
        Assert.InRange(view.Phases[0].MedianTimeToNext!.Value, TimeSpan.FromMinutes(30), TimeSpan.FromHours(1));
        Assert.InRange(view.Phases[0].P90TimeToNext!.Value, TimeSpan.FromMinutes(30), TimeSpan.FromHours(1));
        // Consideration -> purchase: 20 in an hour, 5 after a day: the p90 falls in the 12 h - 1 d bucket.
        Assert.InRange(view.Phases[1].P90TimeToNext!.Value, TimeSpan.FromHours(12), TimeSpan.FromDays(1));
        Assert.Null(view.Phases[4].MedianTimeToNext);

        Assert.Equal([("product_viewed", 38L), ("cart_updated", 25L), ("checkout_started", 20L), ("order_placed", 20L)],
            view.MicroConversions.Select(m => (m.Step, m.Count)));
        Assert.Equal([null, 0.6579, 0.8, 1.0], view.MicroConversions.Select(m => m.Rate));
        Assert.Equal(_time.GetUtcNow(), view.CountedUntil);
    }

    [Fact]
    public async Task A_four_phase_model_groups_retention_and_loyalty_and_the_device_picker_finds_the_cross_device_shoppers()
    {
        await LoadAsync();
        var view = await Read("see-think-do-care");
        Assert.Equal(["see", "think", "do", "care"], view.Phases.Select(p => p.Phase));
        Assert.Equal((25L, 0L, 25L), Of(view, "do"));
        Assert.Equal((25L, 25L, 0L), Of(view, "care"));

        var cross = await Read(cross: true);
        Assert.Equal([5L, 5L, 5L, 0L, 5L], cross.Phases.Select(p => p.Reached));
        Assert.Equal(5, cross.Customers);
        var single = await Read(cross: false);
        Assert.Equal([33L, 33L, 20L, 20L, 0L], single.Phases.Select(p => p.Reached));
    }

    [Fact]
    public async Task A_segment_counts_only_its_customers_and_says_how_many_it_judged()
    {
        await LoadAsync();
        var view = await Read(segment: RulesParser.ParseSegment("traits.persona eq runner", "five-phase"));
        Assert.Equal([20L, 20L, 20L, 20L, 0L], view.Phases.Select(p => p.Reached));
        Assert.Equal(new FunnelScan(38, 20, 100_000, true), view.Scan);

        var byPhase = await Read(segment: RulesParser.ParseSegment("phase in [retention, loyalty] and orders.count gte 2", "five-phase"));
        Assert.Equal(5, byPhase.Customers);
    }

    [Fact]
    public async Task A_period_counts_the_entries_in_it_and_an_erased_customer_leaves_the_counts()
    {
        await LoadAsync();
        // From 3 November: the late shoppers' product views, the cross-device first orders (both on 3 November), the buyers'
        // deliveries (5 November) and the second orders (22 November); every first visit was on 2 November.
        var later = await Read(from: T.AddDays(1).Date);
        Assert.Equal([0L, 3L, 5L, 20L, 5L], later.Phases.Select(p => p.Reached));
        Assert.Equal(38, later.Customers);

        var erasure = new CustomerData(_database, new JourneyReader(_database), _queries, Options.Create(new RetargetingOptions()), new OutboxSignal(), _time, NullLogger<CustomerData>.Instance);
        Assert.NotNull(await erasure.EraseAsync("buyer-0", "test", default));
        Assert.NotNull(await erasure.EraseAsync("cross-0", "test", default));
        await Counters().RefreshAsync(default);
        var view = await Read();
        Assert.Equal((36L, 0L, 36L), Of(view, "awareness"));
        Assert.Equal((19L, 19L, 0L), Of(view, "retention"));
        Assert.Equal((4L, 4L, 0L), Of(view, "loyalty"));
        Assert.Equal(36, view.Customers);
    }

    [Fact]
    public async Task An_erasure_racing_the_counting_job_leaves_nothing_of_the_customer_in_the_counters()
    {
        Use("""
            campaigns:
              - id: browse-nudge
                trigger: { event: product_viewed }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: first }
            """);
        var erasure = new CustomerData(_database, new JourneyReader(_database), _queries, Options.Create(new RetargetingOptions()), new OutboxSignal(), _time, NullLogger<CustomerData>.Instance);
        const int rounds = 12, perRound = 15;
        var erased = new List<string>();
        for (var round = 0; round < rounds; round++)
        {
            var ids = Enumerable.Range(0, perRound).Select(i => $"race-{round}-{i}").ToList();
            var now = _time.GetUtcNow();
            await Consume(ids.SelectMany(c => new[] { E($"{c}-1", "page_viewed", now.AddHours(-1), c), E($"{c}-2", "product_viewed", now, c) }).ToArray());
            await Advance(TimeSpan.FromSeconds(1));
            // The job counts these customers while they are erased one after another: every interleaving of its reads,
            // its write and the erasures must end with the customers gone from every counter.
            var counting = Task.Run(async () => { for (var i = 0; i < 3; i++) await Counters().RefreshAsync(default); });
            foreach (var c in ids.Where((_, i) => i % 3 != 0))
            {
                Assert.NotNull(await erasure.EraseAsync(c, "test", default));
                erased.Add(c);
            }
            await counting;
        }
        await Counters().RefreshAsync(default);

        await using var connection = await _database.OpenAsync(default);
        var funnel = (await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT profile_id FROM funnel_profiles")).ToList();
        var results = (await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT profile_id FROM results_profiles")).ToList();
        Assert.DoesNotContain(funnel.Concat(results), id => erased.Contains(id[2..]));
        var kept = rounds * perRound - erased.Count;
        var keptIds = Enumerable.Range(0, rounds).SelectMany(r => Enumerable.Range(0, perRound).Where(i => i % 3 == 0).Select(i => $"c:race-{r}-{i}")).ToList();
        Assert.Empty(keptIds.Except(funnel));
        Assert.Equal((kept, kept), (funnel.Count, results.Count));
        var view = await Read();
        Assert.Equal(kept, view.Customers);
        Assert.Equal((long)kept, Of(view, "awareness").Reached);
    }
}

public sealed class SqliteFunnelTests : FunnelTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresFunnelTests : FunnelTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
