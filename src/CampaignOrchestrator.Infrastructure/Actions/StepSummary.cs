namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>Counts of one step's actions by current status, and of holdout (control) instances.</summary>
public sealed record StepSummary(int Step, string Kind, IReadOnlyDictionary<string, long> ByStatus, long Holdout, long Variant0, long Variant1Plus);
