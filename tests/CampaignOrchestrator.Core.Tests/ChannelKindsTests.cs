using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Channels;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Tests;

/// <summary>
/// Each channel kind is described once (<see cref="ChannelKinds"/>): the editors' schema, the parser and the send policy
/// agree with the description, so a new kind added there and nowhere else is caught here.
/// </summary>
public class ChannelKindsTests
{
    static JsonObject Schema()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CampaignOrchestrator.sln")))
            dir = dir.Parent;
        return (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir!.FullName, "rules", "rules.schema.json")))!;
    }

    static HashSet<string> Strings(JsonNode? array) => array is JsonArray a ? a.Select(n => (string)n!).ToHashSet() : [];

    [Fact]
    public void The_schema_has_one_action_per_described_kind_with_the_same_settings()
    {
        var branches = Schema()["$defs"]!["action"]!["oneOf"]!.AsArray().Select(b => b!.AsObject()).ToList();
        var inSchema = new Dictionary<string, JsonObject>();
        foreach (var branch in branches)
        {
            var kinds = Strings(branch["properties"]!["kind"]!["enum"]);
            Assert.Single(kinds);
            inSchema[kinds.Single()] = branch;
        }
        Assert.Equal(ChannelKinds.All.Select(k => k.Name).Order(), inSchema.Keys.Order());
        Assert.Equal(ChannelKinds.Capped.Order(), Strings(Schema()["$defs"]!["frequencyCap"]!["properties"]!["channel"]!["enum"]).Order());

        foreach (var kind in ChannelKinds.All)
        {
            var branch = inSchema[kind.Name];
            var required = Strings(branch["required"]);
            required.Remove("kind");
            Assert.True(required.SetEquals(kind.Required), $"{kind}: the schema requires {string.Join(", ", required)}, the description {string.Join(", ", kind.Required)}");
            var properties = branch["properties"]!.AsObject().Select(p => p.Key).Where(p => p != "kind").ToHashSet();
            Assert.True(properties.SetEquals(kind.Settings), $"{kind}: the schema knows {string.Join(", ", properties)}, the description {string.Join(", ", kind.Settings)}");
            foreach (var duration in kind.Durations)
                Assert.Equal("#/$defs/duration", (string?)branch["properties"]![duration]!["$ref"]);
        }
    }

    [Fact]
    public void The_parser_takes_exactly_the_described_settings_of_each_kind()
    {
        foreach (var kind in ChannelKinds.All)
        {
            // Missing every required setting: each is named.
            var missing = Assert.Throws<RulesRejectedException>(() => Parse($"{{ kind: {kind.Name} }}"));
            foreach (var required in kind.Required)
                Assert.Contains(missing.Errors, e => e.Message.Contains($"needs {required}", StringComparison.Ordinal));
            // A setting of no kind: refused.
            var unknown = Assert.Throws<RulesRejectedException>(() => Parse($"{{ kind: {kind.Name}, colour: red }}"));
            Assert.Contains(unknown.Errors, e => e.Message.Contains("colour", StringComparison.Ordinal));
        }
        Assert.Equal(ChannelKinds.All.Select(k => k.Name), RulesParser.ActionKinds);
    }

    static RuleSet Parse(string action) => RulesParser.Parse($$"""
        campaigns:
          - id: c
            trigger: { event: order_placed }
            steps:
              - action: {{action}}
        """, "rules.yaml");

    [Fact]
    public void The_send_policy_asks_consent_and_the_window_of_messages_only()
    {
        var now = new DateTimeOffset(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);   // 04:00 in Amsterdam: outside 09:00-21:00
        var defaults = RulesParser.Parse("""
            defaults:
              timeZone: Europe/Amsterdam
              sendWindow: { from: "09:00", to: "21:00" }
            campaigns: []
            """, "rules.yaml").Defaults;
        var noConsent = new Dictionary<string, JsonNode?>();
        foreach (var kind in ChannelKinds.All)
        {
            var decision = SendPolicy.Decide(kind.Name, holdout: false, transactional: false, noConsent, defaults, [], now);
            if (kind.IsMessage)
            {
                Assert.NotEmpty(kind.ConsentTraits);
                Assert.Equal((DueVerdict.Suppress, "consent"), (decision.Verdict, decision.Reason));
                var consent = kind.ConsentTraits.ToDictionary(t => t, _ => (JsonNode?)JsonValue.Create(true));
                Assert.Equal((DueVerdict.Defer, "window"),
                    (SendPolicy.Decide(kind.Name, false, false, consent, defaults, [], now).Verdict, SendPolicy.Decide(kind.Name, false, false, consent, defaults, [], now).Reason));
            }
            else
                Assert.Equal(DueVerdict.Deliver, decision.Verdict);
        }
    }

    [Fact]
    public void Consent_is_read_from_the_first_trait_present()
    {
        var retargeting = ChannelKinds.Retargeting;
        JsonNode? yes = JsonValue.Create(true), no = JsonValue.Create(false);
        Assert.False(retargeting.HasConsent(new Dictionary<string, JsonNode?>()));
        Assert.True(retargeting.HasConsent(new Dictionary<string, JsonNode?> { ["emailConsent"] = yes }));
        Assert.False(retargeting.HasConsent(new Dictionary<string, JsonNode?> { ["adConsent"] = no, ["emailConsent"] = yes }));
        Assert.True(retargeting.HasConsent(new Dictionary<string, JsonNode?> { ["adConsent"] = yes, ["emailConsent"] = no }));
        Assert.True(retargeting.HasConsent(new Dictionary<string, JsonNode?> { ["adConsent"] = null, ["emailConsent"] = yes }));
        Assert.True(ChannelKinds.Banner.HasConsent(new Dictionary<string, JsonNode?>()));
        Assert.False(ChannelKinds.Email.HasConsent(new Dictionary<string, JsonNode?> { ["emailConsent"] = JsonValue.Create("yes") }));
    }

    [Fact]
    public void An_offer_with_a_template_is_sent_as_an_email()
    {
        Assert.Equal("email", SendPolicy.ChannelOf(new RuleAction("offer", new Dictionary<string, string> { ["template"] = "cart-offer" })));
        Assert.Equal("offer", SendPolicy.ChannelOf(new RuleAction("offer", new Dictionary<string, string>())));
        foreach (var kind in ChannelKinds.All.Where(k => k != ChannelKinds.Offer))
            Assert.Equal(kind.Name, SendPolicy.ChannelOf(new RuleAction(kind.Name, new Dictionary<string, string> { ["template"] = "x" })));
    }
}
