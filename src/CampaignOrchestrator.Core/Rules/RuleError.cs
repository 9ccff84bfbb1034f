using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>One thing wrong in a rules file, where it is, and what is allowed instead.</summary>
public sealed record RuleError(string File, int Line, int Column, string? CampaignId, string Message)
{
    /// <summary><c>rules/default.yaml:14:9 campaign 'cart-recovery': unknown op 'greater'; use one of …</c></summary>
    public override string ToString() =>
        $"{File}:{Line}:{Column}{(CampaignId is null ? "" : $" campaign '{CampaignId}'")}: {Message}";
}
