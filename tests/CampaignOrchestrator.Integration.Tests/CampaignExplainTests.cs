using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Why a customer did or did not get a campaign, from the stored journey and actions: a condition false (with the value
/// found), the holdout, a step cancelled by an exit (and which event), a send suppressed for consent, a second trigger
/// refused by re-entry, and no trigger at all.
/// </summary>
public abstract class CampaignExplainTests : CampaignTestContext
{
    const string Rules = """
        campaigns:
          - id: cart-rescue
            trigger: { event: cart_abandoned }
            conditions:
              all:
                - { field: properties.cartValue, op: gte, value: 25 }
            exitOn: [order_placed]
            steps:
              - action: { kind: email, template: cart-reminder }
              - delay: 1d
                action: { kind: banner, slot: home-hero, creative: cart-offer }
          - id: all-held
            trigger: { event: cart_abandoned }
            holdout: 100%
            steps:
              - action: { kind: banner, slot: home-hero, creative: nothing }
        """;

    CampaignExplainer Explainer() => new(new JourneyReader(_database), new Infrastructure.Campaigns.RulesHistory(_database), _queries, _rules);

    [Fact]
    public async Task Each_trigger_says_what_started_and_why_not()
    {
        Use(Rules);
        await Consume(
            E("c-ben", "cart_abandoned", T, "ben", Cart("cart-b", 12), Consent()),
            E("c-anna", "cart_abandoned", T, "anna", Cart("cart-a", 60)),                         // no email consent
            E("c-anna-2", "cart_abandoned", T.AddHours(1), "anna", Cart("cart-a2", 70)));
        await Advance(TimeSpan.FromMinutes(90));
        await Consume(E("o-anna", "order_placed", T.AddHours(3), "anna", new() { ["orderId"] = "o-1", ["total"] = 60 }));

        // Ben: the cart is too small, and the value is shown.
        var ben = (await Explainer().ExplainAsync("ben", "cart-rescue", default))!;
        var benCart = Assert.Single(ben.Occurrences);
        Assert.False(benCart.Started);
        Assert.Equal("conditions not met: properties.cartValue gte 25 (it is 12)", benCart.Reason);
        var check = Assert.Single(benCart.Conditions);
        Assert.Equal(("properties.cartValue gte 25", 12m, false), (check.Condition, (decimal)check.Actual!, check.Holds));

        // Anna: the first cart started; the mail was suppressed for consent, the banner cancelled by her order.
        var anna = (await Explainer().ExplainAsync("anna", "cart-rescue", default))!;
        Assert.Equal(2, anna.Occurrences.Count);
        var first = anna.Occurrences[0];
        Assert.True(first.Started);
        Assert.Equal("c-anna", first.TriggerId);
        Assert.Equal(("suppressed", "consent"), (first.Steps[0].Status, first.Steps[0].Reason));
        Assert.Equal("no consent to email marketing: traits.emailConsent is not true for this customer", first.Steps[0].Why);   // the channel's description
        Assert.Equal(("cancelled", "o-anna"), (first.Steps[1].Status, first.Steps[1].CauseEventId));
        Assert.StartsWith("exit: order_placed", first.Steps[1].Reason);
        // The second cart an hour later: once per customer.
        Assert.False(anna.Occurrences[1].Started);
        Assert.StartsWith("re-entry: started before", anna.Occurrences[1].Reason);

        // The holdout says so, and its steps are held out.
        var held = (await Explainer().ExplainAsync("anna", "all-held", default))!;
        Assert.True(held.Occurrences[0].Holdout);
        Assert.Equal(("suppressed", "holdout"), (held.Occurrences[0].Steps[0].Status, held.Occurrences[0].Steps[0].Reason));
        Assert.StartsWith("the customer is in the campaign's holdout group", held.Occurrences[0].Steps[0].Why);
        Assert.Contains(held.Notes, n => n.StartsWith("in the holdout", StringComparison.Ordinal));

        // No trigger, an unknown campaign, an unknown customer.
        await Consume(E("v-cas", "product_viewed", T, "cas"));
        var cas = (await Explainer().ExplainAsync("cas", "cart-rescue", default))!;
        Assert.Empty(cas.Occurrences);
        Assert.Contains(cas.Notes, n => n.StartsWith("no cart_abandoned event", StringComparison.Ordinal));
        Assert.False((await Explainer().ExplainAsync("cas", "nope", default))!.InRules);
        Assert.Null(await Explainer().ExplainAsync("nobody", "cart-rescue", default));
    }

    [Fact]
    public async Task A_trigger_that_did_not_start_is_judged_by_the_rules_in_force_when_it_happened()
    {
        Use(Rules);
        // The version the workers had taken a day before the cart: a higher threshold (the store keeps each version's files).
        var older = Rules.Replace("value: 25", "value: 100");
        await using (var connection = await _database.OpenAsync(default))
            await Dapper.SqlMapper.ExecuteAsync(connection,
                "INSERT INTO rules_versions (version, activated_at, files, campaigns, sources) VALUES ('old-1', @at, '[\"rules.yaml\"]', '{}', @sources);" +
                "INSERT INTO rules_activations (version, activated_at, by) VALUES ('old-1', @at, 'file');",
                new { at = T.AddDays(-1), sources = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["rules.yaml"] = older }) });
        // A cart of 60 that the current rules (25) would take, but that arrived while the threshold was 100.
        await Consume(E("c-eva", "cart_abandoned", T, "eva", Cart("cart-e", 60), Consent()));
        await using (var connection = await _database.OpenAsync(default))
            await Dapper.SqlMapper.ExecuteAsync(connection, "DELETE FROM scheduled_actions WHERE profile_id = 'c:eva'");   // as if judged then

        var eva = Assert.Single((await Explainer().ExplainAsync("eva", "cart-rescue", default))!.Occurrences);
        Assert.False(eva.Started);
        Assert.Equal("old-1", eva.RulesVersion);
        Assert.Equal("conditions not met: properties.cartValue gte 100 (it is 60)", eva.Reason);
    }

    [Fact]
    public async Task A_send_outside_the_window_waits_and_one_over_the_cap_is_suppressed_and_both_say_so()
    {
        Use("""
            defaults:
              timeZone: UTC
              sendWindow: { from: "12:00", to: "20:00" }
              frequencyCap: { channel: email, max: 1, per: 7d, onCap: skip }
            campaigns:
              - id: hello
                trigger: { event: product_viewed }
                steps:
                  - action: { kind: email, template: hello }
              - id: again
                trigger: { event: wishlist_added }
                steps:
                  - action: { kind: email, template: again }
            """);
        // 09:00 UTC: the window opens at 12:00.
        await Consume(E("v-1", "product_viewed", T, "dora", null, Consent()));
        await Advance(TimeSpan.FromSeconds(1));
        var waiting = Assert.Single(Assert.Single((await Explainer().ExplainAsync("dora", "hello", default))!.Occurrences).Steps);
        Assert.Equal("pending", waiting.Status);
        Assert.Equal(T.Date.AddHours(12), waiting.DueAt.UtcDateTime);
        Assert.Contains("window", waiting.Reason);
        Assert.Equal("waits for the send window in the customer's time zone (email is a message)", waiting.Why);

        await Advance(TimeSpan.FromHours(3));                                       // sent at 12:00
        await Consume(E("w-1", "wishlist_added", T.AddHours(4), "dora"));
        await Advance(TimeSpan.FromHours(2));
        var capped = Assert.Single(Assert.Single((await Explainer().ExplainAsync("dora", "again", default))!.Occurrences).Steps);
        Assert.Equal("suppressed", capped.Status);
        Assert.StartsWith("cap: 1 email in", capped.Reason);
        Assert.StartsWith("the frequency cap on email: 1 email in", capped.Why);
    }
}

public sealed class SqliteCampaignExplainTests : CampaignExplainTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresCampaignExplainTests : CampaignExplainTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;
}
