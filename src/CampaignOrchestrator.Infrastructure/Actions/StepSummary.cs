namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// Counts of one step's actions by current status, of holdout (control) instances, and of the others by variant
/// (the variant's place in the step's <c>variants:</c>, from 0; a step without variants has only 0).
/// </summary>
public sealed record StepSummary(int Step, string Kind, IReadOnlyDictionary<string, long> ByStatus, long Holdout, IReadOnlyDictionary<int, long> Variants);
