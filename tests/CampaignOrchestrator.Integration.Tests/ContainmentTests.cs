using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// One campaign or one action that cannot run fails alone, with its reason, and the others go on: the event is stored and
/// the order confirmation still goes out, the dispatcher's round delivers the rest, the inactivity scan reaches the other
/// campaigns. What cannot run here is what an older release accepted (durations past the calendar, a row it wrote).
/// </summary>
public abstract class ContainmentTests : CampaignTestContext
{
    protected const string Rules = TestRules.OrderConfirmation + "\n" + """
          - id: thank-you
            trigger: { event: order_placed }
            steps:
              - delay: 1h
                action: { kind: webhook, url: "https://crm.example/hook", secret: crm }
          - id: win-back
            trigger: { inactiveFor: 30d }
            steps:
              - action: { kind: email, template: we-miss-you }
          - id: lapsed
            trigger: { inactiveFor: 60d }
            steps:
              - action: { kind: email, template: lapsed }
        """;

    /// <summary>The rules with <paramref name="campaignId"/>'s durations set to what no calendar holds (the parser refuses them now).</summary>
    static RuleSet Broken(string campaignId)
    {
        var rules = RulesParser.Parse(Rules, "test.yaml");
        return rules with
        {
            Campaigns = rules.Campaigns.Select(c => c.Id != campaignId ? c
                : c.Trigger is InactivityTrigger t ? c with { Trigger = t with { InactiveFor = TimeSpan.MaxValue } }
                : c with { Steps = [c.Steps[0] with { Delay = TimeSpan.FromDays(999_999 * 7) }] }).ToList(),
        };
    }

    [Fact]
    public async Task A_campaign_that_cannot_be_planned_is_passed_over_and_the_event_and_the_confirmation_go_on()
    {
        Use(Broken("thank-you"));
        await Consume(E("o-1", "order_placed", T, "ada", new JsonObject { ["orderId"] = "o-1" }));
        await Advance(TimeSpan.FromSeconds(1));

        var actions = await Actions("ada");
        var confirmation = Assert.Single(actions);
        Assert.Equal(("order-confirmation", "delivered"), (confirmation.CampaignId, confirmation.Status));
        Assert.Single(_channel.Delivered);
        var failure = Assert.Single(_failures.Current());
        Assert.Equal(("thank-you", "planning o-1", 1L), (failure.CampaignId, failure.Doing, failure.Count));
        Assert.Contains("ArgumentOutOfRangeException", failure.Reason);

        // The next event of the same kind: the same again, counted.
        await Consume(E("o-2", "order_placed", T.AddSeconds(1), "bob", new JsonObject { ["orderId"] = "o-2" }));
        await Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("delivered", Assert.Single(await Actions("bob")).Status);
        Assert.Equal(2L, Assert.Single(_failures.Current()).Count);
    }

    [Fact]
    public async Task An_inactivity_campaign_that_cannot_be_scanned_leaves_the_others_scanning()
    {
        Use(Broken("win-back"));
        await Consume(E("p-1", "page_viewed", T, "cleo"));
        _time.Advance(TimeSpan.FromDays(61));
        var scheduled = await Scans().ScanInactivityAsync(default);

        Assert.Equal(1, scheduled);
        Assert.Equal("lapsed", Assert.Single(await Actions("cleo")).CampaignId);
        var failure = Assert.Single(_failures.Current());
        Assert.Equal(("win-back", "scanning for inactive customers"), (failure.CampaignId, failure.Doing));
    }
}

public sealed class SqliteContainmentTests : ContainmentTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;

    // PostgreSQL's jsonb column refuses such a row when it is written; SQLite's text column takes it.
    [Fact]
    public async Task An_action_the_dispatcher_cannot_read_fails_alone_and_the_rest_of_its_round_is_delivered()
    {
        Use(Rules);
        await Consume(E("o-1", "order_placed", T, "dora", new JsonObject { ["orderId"] = "o-1" }),
            E("o-2", "order_placed", T, "eve", new JsonObject { ["orderId"] = "o-2" }));
        // A row another release wrote that this one cannot read.
        await using (var connection = await _database.OpenAsync(default))
            await connection.ExecuteAsync("UPDATE scheduled_actions SET settings = '{\"template\": ' WHERE profile_id = 'c:dora' AND campaign_id = 'order-confirmation'");
        await Advance(TimeSpan.FromSeconds(1));

        var dora = (await Actions("dora")).Single(a => a.CampaignId == "order-confirmation");
        Assert.Equal("failed", dora.Status);
        Assert.StartsWith("could not be judged: ", dora.Reason);
        Assert.Equal("delivered", (await Actions("eve")).Single(a => a.CampaignId == "order-confirmation").Status);
        Assert.Equal(["eve"], _channel.Delivered.Select(d => d.CustomerId));
    }
}

public sealed class PostgresContainmentTests : ContainmentTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
