using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Tests;

/// <summary>
/// Rules a key holder may send that once ended the process (a stack overflow cannot be caught) or took seconds and
/// gigabytes: each is refused with its place, quickly, and a sound file beside it still parses.
/// </summary>
public sealed class RulesHostileInputTests
{
    static string Campaign(string conditions, string step = "action: { kind: email, template: t }") => $$"""
        campaigns:
          - id: deep
            trigger: { event: page_viewed }
            conditions: {{conditions}}
            steps:
              - {{step}}
        """;

    static RuleError Refused(string yaml)
    {
        var ex = Assert.Throws<RulesRejectedException>(() => RulesParser.Parse(yaml, "r.yaml"));
        return Assert.Single(ex.Errors);
    }

    [Fact]
    public void Thirty_thousand_nested_lists_are_refused_at_the_level_that_goes_over()
    {
        var error = Refused(Campaign("{ field: traits.a, op: in, value: " + new string('[', 30_000) + new string(']', 30_000) + " }"));
        Assert.Contains("nested more than 64 deep", error.Message);
        Assert.Equal(4, error.Line);
        Assert.True(error.Column > 40, $"column {error.Column}");
    }

    [Fact]
    public void Fifty_thousand_nested_nots_are_refused()
    {
        var nots = string.Concat(Enumerable.Repeat("{not: ", 50_000)) + "{ field: traits.a, op: exists }" + new string('}', 50_000);
        Assert.Contains("nested more than 64 deep", Refused(Campaign(nots)).Message);
    }

    [Fact]
    public void Block_style_nesting_is_bounded_too()
    {
        var yaml = "segments:\n" + string.Concat(Enumerable.Range(0, 200).Select(i => new string(' ', 2 * (i + 1)) + "k" + i + ":\n")) + new string(' ', 402) + "x";
        Assert.Contains("nested more than 64 deep", Refused(yaml).Message);
    }

    // Ten anchors of ten aliases nine deep: 10^9 values in about 550 bytes.
    static string Bomb(string separator) => string.Join(separator, Enumerable.Range(0, 9).Select(i =>
        $"{{ field: traits.a{i}, op: in, value: &a{i} [{string.Join(",", Enumerable.Repeat(i == 0 ? "x" : $"*a{i - 1}", 10))}] }}"));

    [Fact]
    public void An_alias_bomb_in_a_rules_file_is_refused_before_it_is_expanded()
    {
        var error = Refused(Campaign("{ all: [ " + Bomb(", ") + " ] }"));
        Assert.Contains("aliases expanded", error.Message);
        Assert.Equal(4, error.Line);
    }

    [Fact]
    public void An_alias_bomb_in_a_segment_query_is_refused()
    {
        var ex = Assert.Throws<RulesRejectedException>(() => RulesParser.ParseSegment("{ all: [ " + Bomb(", ") + " ] }", "five-phase"));
        Assert.Contains(ex.Errors, e => e.Message.Contains("aliases expanded", StringComparison.Ordinal));
    }

    [Fact]
    public void A_few_aliases_still_work()
    {
        var rules = RulesParser.Parse(Campaign("{ any: [ { field: traits.country, op: in, value: &benelux [nl, be, lu] }, { field: traits.shipTo, op: in, value: *benelux } ] }"), "r.yaml");
        var any = Assert.IsType<AnyCondition>(rules.Campaigns[0].Conditions);
        Assert.Equal("""["nl","be","lu"]""", ((Comparison)any.Parts[1]).Value!.ToJsonString());
    }

    [Theory]
    [InlineData("campaigns: []\n? [a, b]\n: x", "a key is a plain name")]
    [InlineData("campaigns: []\n{ x: 1 }: y", "a key is a plain name")]
    public void A_list_or_mapping_as_a_key_is_refused_with_its_place(string yaml, string expected)
    {
        var error = Refused(yaml);
        Assert.Contains(expected, error.Message);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void A_file_over_a_mebibyte_is_refused_unread()
    {
        var yaml = "campaigns: []\n#" + new string('x', YamlLimits.MaxChars);
        Assert.Contains("at most 1,048,576", Refused(yaml).Message);
    }

    [Fact]
    public void The_default_rules_are_within_every_bound()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CampaignOrchestrator.sln")))
            dir = dir.Parent;
        var yaml = File.ReadAllText(Path.Combine(dir!.FullName, "rules", "default.yaml"));
        Assert.Null(YamlLimits.Check(yaml, "default.yaml"));
        Assert.NotEmpty(RulesParser.Parse(yaml, "default.yaml").Campaigns);
    }

    // Each passed validation and then could not run: 999999w is 19,000 years, past DateTimeOffset.MaxValue.
    [Theory]
    [InlineData("{ delay: 999999w, action: { kind: email, template: t } }", "", "delay '999999w' is out of range: from 0s to 365d")]
    [InlineData("action: { kind: banner, slot: s, creative: c, ttl: 999999w }", "", "ttl '999999w' is out of range: from 1m to 365d")]
    [InlineData("action: { kind: banner, slot: s, creative: c, ttl: 0s }", "", "ttl '0s' is out of range: from 1m to 365d")]
    [InlineData("action: { kind: offer, amount: 5, validFor: 999999w }", "", "validFor '999999w' is out of range: from 1m to 365d")]
    [InlineData("action: { kind: offer, amount: 99999999999999999999, validFor: 1d }", "", "amount '99999999999999999999' is a number above 0 and at most 1000000")]
    [InlineData("action: { kind: email, template: t }", "defaults: { frequencyCap: { channel: email, max: 3, per: 999999w } }\n", "per '999999w' is out of range: from 1m to 365d")]
    [InlineData("action: { kind: email, template: t }", "derive: { cartAbandoned: { after: 999999w } }\n", "after '999999w' is out of range: from 1m to 30d")]
    public void Durations_and_amounts_that_could_not_run_are_refused_with_their_place(string step, string head, string expected)
    {
        var yaml = head + $$"""
            campaigns:
              - id: c
                trigger: { event: page_viewed }
                steps:
                  - {{step}}
            """;
        var error = Refused(yaml);
        Assert.Equal(expected, error.Message);
        Assert.True(error.Line >= 1 && error.Column > 1, error.ToString());
    }

    [Theory]
    [InlineData("{ inactiveFor: 999999w }", "inactiveFor '999999w' is out of range: from 1s to 730d")]
    [InlineData("{ event: page_viewed }\n    reentry: { after: 999999w }", "after '999999w' is out of range: from 1s to 730d")]
    public void Trigger_and_reentry_durations_are_bounded(string trigger, string expected)
    {
        var error = Refused($"campaigns:\n  - id: c\n    trigger: {trigger}\n    steps:\n      - action: {{ kind: email, template: t }}\n");
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void The_work_a_rule_set_asks_for_is_bounded()
    {
        string Many(int n, Func<int, string> one) => string.Join("\n", Enumerable.Range(0, n).Select(one));
        var campaigns = "campaigns:\n" + Many(RuleLimits.MaxCampaigns + 1, i => $"  - {{ id: c{i}, trigger: {{ event: page_viewed }}, steps: [ {{ action: {{ kind: banner, slot: s, creative: c }} }} ] }}");
        var tooMany = Refused(campaigns);
        Assert.Equal("campaign 'c250' is one too many: a rule set has at most 250 campaigns", tooMany.Message);
        Assert.Equal(252, tooMany.Line);

        var steps = "campaigns:\n  - id: c\n    trigger: { event: page_viewed }\n    steps:\n" + Many(26, _ => "      - action: { kind: email, template: t }");
        Assert.Equal("a campaign has at most 25 steps (this one has 26)", Refused(steps).Message);

        var comparisons = Campaign("{ any: [ " + string.Join(", ", Enumerable.Range(0, 101).Select(i => $"{{ field: traits.t{i}, op: exists }}")) + " ] }");
        Assert.Equal("conditions hold at most 100 comparisons (these hold 101)", Refused(comparisons).Message);

        var list = Campaign("{ field: traits.zip, op: in, value: [" + string.Join(",", Enumerable.Range(0, 1001)) + "] }");
        Assert.Equal("a list value has at most 1000 items (this one has 1001)", Refused(list).Message);

        var exactly = "campaigns:\n" + Many(RuleLimits.MaxCampaigns, i => $"  - {{ id: c{i}, trigger: {{ event: page_viewed }}, steps: [ {{ action: {{ kind: banner, slot: s, creative: c }} }} ] }}");
        Assert.Equal(250, RulesParser.Parse(exactly, "r.yaml").Campaigns.Count);
    }

    static readonly TemplateCatalog Templates = new(new Dictionary<string, IReadOnlySet<string>>
    {
        ["cart-reminder"] = new HashSet<string> { "en", "nl" },
        ["order-confirmation"] = new HashSet<string> { "en", "nl" },
        ["spring-teaser"] = new HashSet<string> { "en" },
    });

    [Theory]
    [InlineData("{ kind: email, template: spring-sale }", "there is no email template 'spring-sale'; the templates folder has cart-reminder, order-confirmation, spring-teaser")]
    [InlineData("{ kind: email, template: spring-teaser }", "email template 'spring-teaser' has no nl version (this installation sends en, nl)")]
    [InlineData("{ kind: offer, discountPercent: 10, validFor: 3d, template: spring-sale }", "there is no email template 'spring-sale'")]
    [InlineData("{ kind: email, template: ../../etc/passwd }", "template '../../etc/passwd' is a template's folder name")]
    [InlineData("{ kind: email, template: cart-reminder/../x }", "template 'cart-reminder/../x' is a template's folder name")]
    public void A_template_the_installation_cannot_send_is_refused_with_its_place(string action, string expected)
    {
        var ex = Assert.Throws<RulesRejectedException>(() => RulesParser.Parse(Campaign("{ field: traits.a, op: exists }", "action: " + action), "r.yaml", Templates));
        var error = Assert.Single(ex.Errors);
        Assert.StartsWith(expected, error.Message);
        Assert.Equal(6, error.Line);
        Assert.True(error.Column > 20, error.ToString());
        Assert.NotNull(RulesParser.Parse(Campaign("{ field: traits.a, op: exists }", "action: { kind: email, template: cart-reminder }"), "r.yaml", Templates));
    }
}
