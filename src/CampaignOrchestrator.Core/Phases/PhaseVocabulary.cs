using System.Collections.Frozen;

namespace CampaignOrchestrator.Core.Phases;

/// <summary>
/// A phase model's own phases, in order, and the canonical phases each one covers: <c>five-phase</c> is the
/// stored <see cref="Phase"/> itself; <c>see-think-do-care</c>, <c>touch-tell-sell-care</c> and <c>race</c> have
/// four phases, the last of which (care, engage) covers retention and loyalty (docs/rules.md, "Phase models").
/// A rules file's <c>phaseModel</c> chooses the one the journeys run on; the funnel shows any of them over the same data.
/// </summary>
public sealed class PhaseVocabulary
{
    /// <summary>The model of wire contract v1: awareness, consideration, purchase, retention, loyalty.</summary>
    public static readonly PhaseVocabulary FivePhase = new("five-phase", ["awareness", "consideration", "purchase", "retention", "loyalty"]);

    /// <summary>The models a rules file and the funnel accept, by name.</summary>
    public static readonly FrozenDictionary<string, PhaseVocabulary> All = new[]
    {
        FivePhase,
        new PhaseVocabulary("see-think-do-care", ["see", "think", "do", "care"]),
        new PhaseVocabulary("touch-tell-sell-care", ["touch", "tell", "sell", "care"]),
        new PhaseVocabulary("race", ["reach", "act", "convert", "engage"]),
    }.ToFrozenDictionary(v => v.Name, StringComparer.Ordinal);

    readonly string[] _names;

    PhaseVocabulary(string name, string[] names)
    {
        Name = name;
        _names = names;
    }

    /// <summary>The model's name as a rules file writes it, e.g. <c>see-think-do-care</c>.</summary>
    public string Name { get; }

    /// <summary>The model's phases in journey order, e.g. see, think, do, care.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>True for a four-phase model: retention and loyalty are one phase, its last.</summary>
    public bool FoldsLoyalty => _names.Length == 4;

    /// <summary>The stored phase a customer is in under this model: loyalty is retention in a four-phase model.</summary>
    public Phase Fold(Phase phase) => FoldsLoyalty && phase == Phase.Loyalty ? Phase.Retention : phase;

    /// <summary>The model's name for a stored phase, e.g. <c>care</c> for retention (and loyalty) in see-think-do-care.</summary>
    public string NameOf(Phase phase) => _names[(int)Fold(phase) - 1];

    /// <summary>The canonical phases one of the model's phases covers (care: retention and loyalty).</summary>
    public IReadOnlyList<Phase> Covers(int index) =>
        FoldsLoyalty && index == 3 ? [Phase.Retention, Phase.Loyalty] : [(Phase)(index + 1)];

    /// <summary>
    /// Reads a phase name in a rules file of this model: the model's own names, and the five-phase names of the phases it
    /// has (a four-phase model has no loyalty). Another model's names are refused, so a file reads in one vocabulary.
    /// </summary>
    public bool TryParse(string? name, out Phase phase)
    {
        phase = 0;
        if (name is null)
            return false;
        var own = Array.IndexOf(_names, name.ToLowerInvariant());
        if (own >= 0)
            phase = (Phase)(own + 1);
        else if (FivePhase._names.Contains(name.ToLowerInvariant()) && !(FoldsLoyalty && name.Equals("loyalty", StringComparison.OrdinalIgnoreCase)))
            phase = (Phase)(Array.IndexOf(FivePhase._names, name.ToLowerInvariant()) + 1);
        return phase != 0;
    }

    /// <summary>What a rules file of this model may name, for error messages.</summary>
    public string Accepted() => this == FivePhase
        ? "awareness, consideration, purchase, retention or loyalty"
        : $"{string.Join(", ", _names)} (the {Name} phases) or awareness, consideration, purchase, retention";
}
