using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Phases;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>A customer as campaigns see them: traits, phase and order history.</summary>
public sealed record CustomerState(string ProfileId, string? CustomerId, IReadOnlyDictionary<string, JsonNode?> Traits, Phase? Phase, int OrderCount, decimal OrderTotal)
{
    /// <summary>The id that holdout and variant buckets hash: the account when known, else the device profile.</summary>
    public string StableId => CustomerId ?? ProfileId;
}
