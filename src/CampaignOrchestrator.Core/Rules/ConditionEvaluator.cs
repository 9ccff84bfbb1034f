using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>
/// Judges a <see cref="Condition"/> tree. A field that is missing, null or of another type than the
/// comparison needs makes its comparison false (also for <c>ne</c> and <c>notIn</c>); nothing throws.
/// Strings compare ordinally, numbers as decimals.
/// </summary>
public static class ConditionEvaluator
{
    public static bool Evaluate(Condition? condition, ConditionSubject subject) => condition switch
    {
        null => true,
        AllCondition all => all.Parts.All(p => Evaluate(p, subject)),
        AnyCondition any => any.Parts.Any(p => Evaluate(p, subject)),
        NotCondition not => !Evaluate(not.Part, subject),
        Comparison c => Compare(c, Field(c.Field, subject)),
        _ => false,
    };

    /// <summary>Why <paramref name="condition"/> is false for <paramref name="subject"/> (the first part that fails), or null when it holds.</summary>
    public static string? Explain(Condition? condition, ConditionSubject subject) => condition switch
    {
        null => null,
        _ when Evaluate(condition, subject) => null,
        AllCondition all => all.Parts.Select(p => Explain(p, subject)).First(x => x is not null),
        AnyCondition any => "none of: " + string.Join("; ", any.Parts.Select(p => Explain(p, subject))),
        NotCondition not => $"not ({Describe(not.Part)}) is false",
        Comparison c => $"{Describe(c)} (it is {Field(c.Field, subject)?.ToJsonString() ?? "missing"})",
        _ => condition.GetType().Name,
    };

    /// <summary>Every comparison of <paramref name="condition"/> with the value it found and whether it holds (for explain).</summary>
    public static IEnumerable<ConditionCheck> Checks(Condition? condition, ConditionSubject subject) => condition switch
    {
        null => [],
        AllCondition all => all.Parts.SelectMany(p => Checks(p, subject)),
        AnyCondition any => any.Parts.SelectMany(p => Checks(p, subject)),
        NotCondition not => Checks(not.Part, subject),
        Comparison c => [new ConditionCheck(Describe(c), Field(c.Field, subject)?.DeepClone(), Evaluate(c, subject))],
        _ => [],
    };

    static string Describe(Condition condition) => condition switch
    {
        Comparison c => $"{c.Field} {c.Op.ToString()[..1].ToLowerInvariant()}{c.Op.ToString()[1..]} {c.Value?.ToJsonString() ?? "null"}",
        AllCondition all => "all of: " + string.Join("; ", all.Parts.Select(Describe)),
        AnyCondition any => "any of: " + string.Join("; ", any.Parts.Select(Describe)),
        NotCondition not => $"not ({Describe(not.Part)})",
        _ => condition.GetType().Name,
    };

    /// <summary>The value of a field such as <c>traits.address.country</c>, or null when it is missing.</summary>
    public static JsonNode? Field(string field, ConditionSubject subject)
    {
        if (field == "phase")
            return subject.Phase is { } phase ? JsonValue.Create(phase.ToName()) : null;
        if (field == "orders.count")
            return JsonValue.Create(subject.OrderCount);
        if (field == "orders.total")
            return JsonValue.Create(subject.OrderTotal);
        if (field == "event.type")
            return subject.EventType is { } type ? JsonValue.Create(type) : null;
        var dot = field.IndexOf('.');
        if (dot < 0)
            return null;
        var path = field[(dot + 1)..].Split('.');
        JsonNode? node = field[..dot] switch
        {
            "traits" => subject.Traits.GetValueOrDefault(path[0]),
            "properties" => subject.Properties?[path[0]],
            "context" => subject.Context?[path[0]],
            _ => null,
        };
        for (var i = 1; i < path.Length && node is not null; i++)
            node = node is JsonObject o ? o[path[i]] : null;
        return node;
    }

    static bool Compare(Comparison c, JsonNode? actual)
    {
        if (c.Op == ComparisonOp.Exists)
        {
            var wanted = c.Value is JsonValue v && v.TryGetValue<bool>(out var b) ? b : true;
            return (actual is not null) == wanted;
        }
        if (actual is null)
            return false;
        return c.Op switch
        {
            ComparisonOp.Eq => Same(actual, c.Value),
            ComparisonOp.Ne => c.Value is not null && Kind(actual) == Kind(c.Value) && !Same(actual, c.Value),
            ComparisonOp.Gt => Order(actual, c.Value) is > 0,
            ComparisonOp.Gte => Order(actual, c.Value) is >= 0,
            ComparisonOp.Lt => Order(actual, c.Value) is < 0,
            ComparisonOp.Lte => Order(actual, c.Value) is <= 0,
            ComparisonOp.In => c.Value is JsonArray list && list.Any(item => Same(actual, item)),
            ComparisonOp.NotIn => c.Value is JsonArray list && list.All(item => !Same(actual, item)),
            ComparisonOp.Contains => actual switch
            {
                JsonArray items => items.Any(item => item is not null && Same(item, c.Value)),
                JsonValue text when text.GetValueKind() == JsonValueKind.String && c.Value is JsonValue part && part.GetValueKind() == JsonValueKind.String =>
                    text.GetValue<string>().Contains(part.GetValue<string>(), StringComparison.OrdinalIgnoreCase),
                _ => false,
            },
            _ => false,
        };
    }

    static JsonValueKind Kind(JsonNode node) => node.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? JsonValueKind.True : node.GetValueKind();

    static bool Same(JsonNode a, JsonNode? b)
    {
        if (b is null)
            return false;
        if (Number(a) is { } x && Number(b) is { } y)
            return x == y;
        return Kind(a) == Kind(b) && JsonNode.DeepEquals(a, b);
    }

    static int? Order(JsonNode a, JsonNode? b)
    {
        if (b is null)
            return null;
        if (Number(a) is { } x && Number(b) is { } y)
            return x.CompareTo(y);
        if (a.GetValueKind() == JsonValueKind.String && b.GetValueKind() == JsonValueKind.String)
            return string.CompareOrdinal(a.GetValue<string>(), b.GetValue<string>());
        return null;
    }

    static decimal? Number(JsonNode node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && decimal.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
}
