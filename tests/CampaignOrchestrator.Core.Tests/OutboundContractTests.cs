using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CampaignOrchestrator.Contracts.Outbound;

namespace CampaignOrchestrator.Core.Tests;

/// <summary>The outbound events as built against the contract as documented (docs/wire-contract.md).</summary>
public partial class OutboundContractTests
{
    static readonly string Document = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "wire-contract.md"));

    [GeneratedRegex(@"^### `(?<key>[a-z.]+)` \(`(?<type>\w+)`\)\s*$.*?```json\n(?<json>.*?)```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex EventSection();

    static Dictionary<string, (string Type, string Json)> Documented() =>
        EventSection().Matches(Document).ToDictionary(m => m.Groups["key"].Value, m => (m.Groups["type"].Value, m.Groups["json"].Value));

    [Fact]
    public void Every_routing_key_is_documented_with_its_record_type()
    {
        var documented = Documented();
        Assert.Equal(OutboundJson.RoutingKeys.Order(), documented.Keys.Order());
        foreach (var (key, (type, _)) in documented)
            Assert.Equal(type, OutboundJson.TypeOf(key)!.Name);
    }

    [Fact]
    public void Each_documented_example_reads_into_its_record_and_serializes_back_to_the_same_json_in_the_same_order()
    {
        foreach (var (key, (_, json)) in Documented())
        {
            var type = OutboundJson.TypeOf(key)!;
            var record = (ICampaignActionEvent)JsonSerializer.Deserialize(json, type, OutboundJson.Options)!;
            Assert.Equal(key, record.RoutingKey);
            var expected = JsonNode.Parse(json)!.AsObject();
            var actual = JsonNode.Parse(OutboundJson.Serialize(record))!.AsObject();
            Assert.True(JsonNode.DeepEquals(expected, actual), $"{key}: documented {expected.ToJsonString()}, built {actual.ToJsonString()}");
            Assert.Equal(expected.Select(p => p.Key), actual.Select(p => p.Key));   // the common fields first, then the kind's own
        }
    }

    [Fact]
    public void Every_event_starts_with_the_common_fields_and_writes_nulls()
    {
        var e = new BannerAssigned("a1", "award-banner", 1, null, "dev-7", null, new DateTimeOffset(2026, 11, 22, 9, 15, 0, TimeSpan.Zero), "e-1", 0,
            "home-hero", "award-2026", null);
        var body = JsonNode.Parse(OutboundJson.Serialize(e))!.AsObject();
        Assert.Equal(["actionId", "campaignId", "step", "customerId", "anonymousId", "phase", "occurredAt", "causeEventId", "variant", "slot", "creative", "expiresAt"],
            body.Select(p => p.Key));
        Assert.Null(body["customerId"]);
        Assert.Equal("2026-11-22T09:15:00+00:00", (string?)body["occurredAt"]);
        Assert.False(body.ContainsKey("routingKey"));
    }

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CampaignOrchestrator.sln")))
                return dir.FullName;
        throw new InvalidOperationException("the repository root (CampaignOrchestrator.sln) was not found above " + AppContext.BaseDirectory);
    }
}
