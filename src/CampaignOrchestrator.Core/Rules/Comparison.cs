using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Core.Rules;

/// <summary><c>{ field, op, value }</c>: a field compared with a value (missing fields are false).</summary>
public sealed record Comparison(string Field, ComparisonOp Op, JsonNode? Value) : Condition;
