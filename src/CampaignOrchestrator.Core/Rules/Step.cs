namespace CampaignOrchestrator.Core.Rules;

/// <summary>A step: wait (<see cref="Delay"/> from the previous step, or until local time <see cref="At"/>), then act.</summary>
/// <param name="Variants">The action, or A/B variants of it with weights (one variant of weight 100 when there is no split).</param>
public sealed record Step(TimeSpan Delay, TimeOnly? At, IReadOnlyList<Variant> Variants);
