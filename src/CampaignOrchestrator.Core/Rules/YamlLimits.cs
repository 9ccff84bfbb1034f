using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>
/// The bounds a YAML text is held to before any tree is built from it. YamlDotNet's parser reads events with a loop,
/// but building the node tree (<c>YamlStream.Load</c>) and every walk over it recurse once per level: 30,000 nested
/// <c>[</c> overflow the stack, which .NET cannot catch, and ends the process. Aliases are shared in the tree but
/// expanded by every walk: ten anchors of ten aliases nine deep (about 550 bytes) are 10⁹ nodes. So this reads the
/// events once, flat, and refuses a text that is too big, nested too deep, expands to too many nodes or uses a
/// mapping as a key, with the place where it went over.
/// </summary>
public static class YamlLimits
{
    /// <summary>The largest YAML text taken, in characters: 1 MiB (the API's body limit; rules files are a few KB).</summary>
    public const int MaxChars = 1024 * 1024;

    /// <summary>The deepest nesting of lists and mappings: rules need about 12 (a condition in a group in a campaign).</summary>
    public const int MaxDepth = 64;

    /// <summary>The most nodes a text may stand for with every alias expanded: 200,000 (a 1 MiB file has about 100,000).</summary>
    public const int MaxExpandedNodes = 200_000;

    /// <summary>Why <paramref name="yaml"/> is refused, at its line and column, or null when it is within the bounds
    /// (it may still be invalid YAML: the caller's parser says so).</summary>
    public static RuleError? Check(string yaml, string file)
    {
        if (yaml.Length > MaxChars)
            return new RuleError(file, 1, 1, null, $"the file has {yaml.Length:N0} characters; a rules file has at most {MaxChars:N0}");
        var parser = new Parser(new StringReader(yaml));
        var open = new Stack<Open>();
        var anchors = new Dictionary<string, long>(StringComparer.Ordinal);
        long expanded = 0;
        try
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                // A mapping's children alternate key, value: a key must be a plain scalar (the rules name their fields).
                if (e is NodeEvent && open.TryPeek(out var parent) && parent.IsMapping)
                {
                    if (parent.Children % 2 == 0 && e is not Scalar)
                        return Refuse(file, e, "a key is a plain name, not a list, a mapping or an alias");
                    parent.Children++;
                }
                switch (e)
                {
                    case AnchorAlias alias:
                        expanded += anchors.TryGetValue(alias.Value.Value, out var size) ? size : 1;
                        break;
                    case Scalar scalar:
                        expanded++;
                        if (!scalar.Anchor.IsEmpty)
                            anchors[scalar.Anchor.Value] = 1;
                        break;
                    case MappingStart or SequenceStart:
                        expanded++;
                        if (open.Count >= MaxDepth)
                            return Refuse(file, e, $"lists and mappings are nested more than {MaxDepth} deep");
                        open.Push(new Open(e is MappingStart, ((NodeEvent)e).Anchor, expanded - 1));
                        break;
                    case MappingEnd or SequenceEnd:
                        var closed = open.Pop();
                        if (!closed.Anchor.IsEmpty)
                            anchors[closed.Anchor.Value] = expanded - closed.ExpandedBefore;
                        break;
                }
                if (expanded > MaxExpandedNodes)
                    return Refuse(file, e, $"with its aliases expanded the file stands for more than {MaxExpandedNodes:N0} values; write the parts out or use fewer aliases");
            }
        }
        catch (YamlException)
        {
            return null;   // not valid YAML: the tree's parser reports it with its place
        }
        return null;
    }

    static RuleError Refuse(string file, ParsingEvent at, string message) =>
        new(file, (int)at.Start.Line, (int)at.Start.Column, null, message);

    sealed class Open(bool isMapping, AnchorName anchor, long expandedBefore)
    {
        public bool IsMapping { get; } = isMapping;
        public AnchorName Anchor { get; } = anchor;
        public long ExpandedBefore { get; } = expandedBefore;
        public int Children { get; set; }
    }
}
