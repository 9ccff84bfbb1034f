using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>A rules file refused as a whole; <see cref="Errors"/> says everything that is wrong.</summary>
public sealed class RulesRejectedException(IReadOnlyList<RuleError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<RuleError> Errors { get; } = errors;
}
