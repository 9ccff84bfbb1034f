using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>A scheduled action as operators and marketers see it, with its life so far.</summary>
public sealed record ActionView(
    string ActionId, string CampaignId, int Step, string Kind, JsonNode? Settings, int Variant, bool Holdout, bool Transactional,
    string? InstanceKey, string TriggerId, DateTimeOffset TriggeredAt, DateTimeOffset PlannedAt, DateTimeOffset DueAt, string Status,
    DateTimeOffset? FinishedAt, string? Reason, string? CauseEventId, string RulesVersion, IReadOnlyList<ActionLogEntry> Log);
