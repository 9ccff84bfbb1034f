namespace CampaignOrchestrator.Core.Rules;

/// <summary>At most <paramref name="Max"/> sends on <paramref name="Channel"/> per <paramref name="Per"/>.</summary>
public sealed record FrequencyCap(string Channel, int Max, TimeSpan Per, CapBehaviour OnCap);
