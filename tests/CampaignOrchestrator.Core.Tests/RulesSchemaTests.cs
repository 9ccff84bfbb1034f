using System.Globalization;
using System.Text.Json.Nodes;
using NJsonSchema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CampaignOrchestrator.Core.Tests;

/// <summary>The JSON Schema editors use (rules/rules.schema.json) accepts the shipped rules and refuses what the parser refuses.</summary>
public class RulesSchemaTests
{
    static string Repo(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CampaignOrchestrator.sln")))
            dir = dir.Parent;
        return Path.Combine([dir?.FullName ?? throw new InvalidOperationException("repository root not found"), .. parts]);
    }

    static async Task<ICollection<NJsonSchema.Validation.ValidationError>> Validate(string yaml)
    {
        // NJsonSchema reads draft 7, where $defs are called definitions; the schema uses no other 2020-12 keyword.
        var text = (await File.ReadAllTextAsync(Repo("rules", "rules.schema.json")))
            .Replace("\"$defs\"", "\"definitions\"").Replace("#/$defs/", "#/definitions/")
            .Replace("https://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft-07/schema#");
        var schema = await JsonSchema.FromJsonAsync(text);
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return schema.Validate(ToJson(stream.Documents[0].RootNode)!.ToJsonString());
    }

    // YAML 1.2 core schema: plain scalars that read as booleans or numbers are those; quoted ones are text.
    static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } s => JsonValue.Create(s.Value == "true"),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: "null" or "~" or "" } => null,
        YamlScalarNode { Style: ScalarStyle.Plain } s when long.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        YamlScalarNode { Style: ScalarStyle.Plain } s when double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => throw new ArgumentException(node.GetType().Name),
    };

    [Fact]
    public async Task The_schema_accepts_the_default_rules()
    {
        var errors = await Validate(await File.ReadAllTextAsync(Repo("rules", "default.yaml")));
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => e.ToString())));
    }

    [Theory]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, conditions: { field: traits.x, op: greater, value: 1 }, steps: [ { action: { kind: email, template: t } } ] } ]")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, colour: red, steps: [ { action: { kind: email, template: t } } ] } ]")]
    [InlineData("campaigns: [ { id: a, trigger: { event: x }, steps: [ { delay: soon, action: { kind: email, template: t } } ] } ]")]
    [InlineData("derive: { cartAbandoned: { after: 1h, colour: red } }\ncampaigns: []")]
    public async Task The_schema_refuses_what_the_parser_refuses(string yaml)
    {
        Assert.ThrowsAny<Exception>(() => Rules.RulesParser.Parse(yaml, "t.yaml"));
        Assert.NotEmpty(await Validate(yaml));
    }
}
