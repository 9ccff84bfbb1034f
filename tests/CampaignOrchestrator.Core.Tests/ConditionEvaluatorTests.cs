using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Tests;

public sealed class ConditionEvaluatorTests
{
    static readonly ConditionSubject Shopper = new(
        new Dictionary<string, JsonNode?>
        {
            ["emailConsent"] = true,
            ["country"] = "NL",
            ["address"] = new JsonObject { ["city"] = "Utrecht" },
            ["tags"] = new JsonArray("vip", "newsletter"),
            ["nothing"] = null,
        },
        new JsonObject { ["cartValue"] = 42.5, ["cartId"] = "c-1", ["sku"] = "SKU-7" },
        new JsonObject { ["channel"] = "web" },
        Phase.Purchase, OrderCount: 2, OrderTotal: 180m);

    // Each condition as a marketer writes it, parsed by the real parser, judged against one shopper.
    [Theory]
    [InlineData("{ field: properties.cartValue, op: gte, value: 25 }", true)]
    [InlineData("{ field: properties.cartValue, op: gt, value: 42.5 }", false)]
    [InlineData("{ field: properties.cartValue, op: lte, value: 42.5 }", true)]
    [InlineData("{ field: properties.cartValue, op: lt, value: 10 }", false)]
    [InlineData("{ field: traits.emailConsent, op: eq, value: true }", true)]
    [InlineData("{ field: traits.emailConsent, op: eq, value: \"true\" }", false)]
    [InlineData("{ field: traits.country, op: in, value: [NL, BE] }", true)]
    [InlineData("{ field: traits.country, op: notIn, value: [NL, BE] }", false)]
    [InlineData("{ field: traits.country, op: ne, value: DE }", true)]
    [InlineData("{ field: traits.address.city, op: eq, value: Utrecht }", true)]
    [InlineData("{ field: traits.tags, op: contains, value: vip }", true)]
    [InlineData("{ field: properties.sku, op: contains, value: sku }", true)]
    [InlineData("{ field: context.channel, op: eq, value: web }", true)]
    [InlineData("{ field: phase, op: eq, value: purchase }", true)]
    [InlineData("{ field: phase, op: in, value: [retention, loyalty] }", false)]
    [InlineData("{ field: orders.count, op: gte, value: 2 }", true)]
    [InlineData("{ field: orders.total, op: gt, value: 100 }", true)]
    [InlineData("{ field: traits.country, op: exists }", true)]
    [InlineData("{ field: traits.nothing, op: exists }", false)]
    [InlineData("{ field: traits.shoeSize, op: exists, value: false }", true)]
    // Missing fields, nulls and wrong types are false, whatever the op, and never throw.
    [InlineData("{ field: traits.shoeSize, op: eq, value: 42 }", false)]
    [InlineData("{ field: traits.shoeSize, op: ne, value: 42 }", false)]
    [InlineData("{ field: traits.shoeSize, op: notIn, value: [41, 42] }", false)]
    [InlineData("{ field: traits.nothing, op: eq, value: null }", false)]
    [InlineData("{ field: traits.country, op: gt, value: 5 }", false)]
    [InlineData("{ field: traits.address, op: eq, value: Utrecht }", false)]
    [InlineData("{ field: properties.cartValue.deeper, op: eq, value: 1 }", false)]
    [InlineData("{ all: [ { field: phase, op: eq, value: purchase }, { field: orders.count, op: gte, value: 1 } ] }", true)]
    [InlineData("{ any: [ { field: traits.shoeSize, op: eq, value: 1 }, { field: traits.country, op: eq, value: NL } ] }", true)]
    [InlineData("{ not: { field: traits.country, op: eq, value: NL } }", false)]
    public void A_condition_is_judged_as_written(string yaml, bool expected)
    {
        var rules = RulesParser.Parse($"campaigns: [ {{ id: t, trigger: {{ event: x }}, conditions: {yaml}, steps: [ {{ action: {{ kind: email, template: t }} }} ] }} ]", "t.yaml");
        Assert.Equal(expected, ConditionEvaluator.Evaluate(rules.Campaigns[0].Conditions, Shopper));
    }

    [Fact]
    public void Without_a_trigger_event_its_fields_are_missing_not_an_error()
    {
        var scheduled = Shopper with { Properties = null, Context = null };
        Assert.False(ConditionEvaluator.Evaluate(new Comparison("properties.cartValue", ComparisonOp.Gte, JsonValue.Create(1)), scheduled));
        Assert.True(ConditionEvaluator.Evaluate(null, scheduled));
    }
}
