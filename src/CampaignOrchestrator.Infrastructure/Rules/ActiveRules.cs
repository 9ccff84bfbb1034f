using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Infrastructure.Rules;

/// <summary>
/// The rules version in force. Readers take <see cref="Current"/> once per unit of work (a batch, a
/// claim), so a reload never changes the rules under them; a reload swaps the whole version at once.
/// </summary>
public sealed class ActiveRules
{
    /// <summary>No campaigns, the default phase model (tests of the journey store alone).</summary>
    public static readonly CompiledRules None = new(new RuleSet("five-phase", PhaseModel.Default, new RuleDefaults(TimeZoneInfo.Utc, null, []), []), "none");

    volatile State _state;

    public ActiveRules(CompiledRules rules, DateTimeOffset at, string? path = null, IReadOnlyList<string>? files = null,
        IReadOnlyDictionary<string, string>? sources = null) =>
        _state = new State(rules, StatusOf(rules, at, path, files ?? []), sources ?? new Dictionary<string, string>());

    /// <summary>The text of each file of the version in force (what <c>rules_versions</c> records).</summary>
    public IReadOnlyDictionary<string, string> Sources => _state.Sources;

    /// <summary>The rules version in force.</summary>
    public CompiledRules Current => _state.Rules;

    /// <summary>The version in force and the last refusal.</summary>
    public RulesStatus Status => _state.Status;

    /// <summary>Raised after a new version took over, with the one it replaced.</summary>
    public event Action<CompiledRules, CompiledRules>? Activated;

    /// <summary>Puts <paramref name="rules"/> in force.</summary>
    public void Activate(CompiledRules rules, DateTimeOffset at, IReadOnlyList<string> files, IReadOnlyDictionary<string, string>? sources = null)
    {
        var previous = _state;
        _state = new State(rules, StatusOf(rules, at, previous.Status.Path, files), sources ?? new Dictionary<string, string>());
        Activated?.Invoke(previous.Rules, rules);
    }

    /// <summary>Records that a change was refused; the version in force stays.</summary>
    public void Refuse(IReadOnlyList<string> errors, DateTimeOffset at)
    {
        var s = _state;
        _state = s with { Status = s.Status with { LastRefusal = new RulesRefusal(at, errors) } };
    }

    static RulesStatus StatusOf(CompiledRules rules, DateTimeOffset at, string? path, IReadOnlyList<string> files)
    {
        var model = rules.Vocabulary;
        return new RulesStatus(rules.Version, at, path, files, rules.Campaigns.Select(c => c.Id).ToList(), null)
        {
            PhaseModel = model.Name,
            PhaseNames = Enum.GetValues<Phase>().ToDictionary(p => p.ToName(), model.NameOf, StringComparer.Ordinal),
        };
    }

    sealed record State(CompiledRules Rules, RulesStatus Status, IReadOnlyDictionary<string, string> Sources);
}
