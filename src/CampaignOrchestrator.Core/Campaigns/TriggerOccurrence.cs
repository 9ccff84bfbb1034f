using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>
/// What started a campaign instance: an event (its eventId), a phase change (the eventId that caused
/// it), an inactivity period or a schedule firing (a synthetic id). <see cref="Properties"/> and
/// <see cref="Context"/> are the trigger event's, null when there is none; <see cref="EventType"/> its type (for a phase
/// change, the causing event's).
/// </summary>
public sealed record TriggerOccurrence(string TriggerId, string Description, DateTimeOffset OccurredAt, JsonObject? Properties, JsonObject? Context,
    string? EventType = null);
