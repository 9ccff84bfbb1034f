namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>A slot's banner as the webshop renders it: the assigned creative, or the slot's default.</summary>
/// <param name="IsDefault">True when no campaign's banner holds the slot now (none assigned, or it expired).</param>
public sealed record PlacementView(string Slot, string? Creative, bool IsDefault, string? CampaignId = null, string? ActionId = null,
    DateTimeOffset? AssignedAt = null, DateTimeOffset? ExpiresAt = null);
