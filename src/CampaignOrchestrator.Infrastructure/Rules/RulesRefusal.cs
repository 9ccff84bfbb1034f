namespace CampaignOrchestrator.Infrastructure.Rules;

/// <summary>A rules change the worker refused (it kept the active version).</summary>
public sealed record RulesRefusal(DateTimeOffset At, IReadOnlyList<string> Errors);
