using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>One comparison of a condition as judged: what it asks (<c>properties.cartValue gte 25</c>), the value found, and whether it holds.</summary>
public sealed record ConditionCheck(string Condition, JsonNode? Actual, bool Holds);
