using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CampaignOrchestrator.Core.Channels;
using CampaignOrchestrator.Core.Phases;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CampaignOrchestrator.Core.Rules;

/// <summary>
/// Reads a rules file (docs/rules.md) into a <see cref="RuleSet"/>. Every problem is collected with
/// its file, line and column before the file is refused, so a marketer fixes them in one go.
/// </summary>
public static partial class RulesParser
{
    public static readonly string[] PhaseModels = ["five-phase", "see-think-do-care", "touch-tell-sell-care", "race"];
    /// <summary>The action kinds (and channels of frequency caps): <see cref="ChannelKinds"/>.</summary>
    public static readonly string[] ActionKinds = [.. ChannelKinds.All.Select(k => k.Name)];
    public static readonly string[] FieldRoots = ["traits.*", "properties.*", "context.*", "phase", "orders.count", "orders.total", "event.type"];

    static readonly string[] RootKeys = ["phaseModel", "phases", "defaults", "derive", "segments", "campaigns"];
    static readonly string[] DeriveKeys = ["cartAbandoned"];
    static readonly string[] DefaultsKeys = ["timeZone", "sendWindow", "frequencyCap"];
    static readonly string[] CampaignKeys = ["id", "description", "trigger", "key", "conditions", "exitOn", "reentry", "holdout", "priority", "transactional", "onChange", "goal", "steps"];
    static readonly string[] TriggerKinds = ["event", "phaseEntered", "inactiveFor", "schedule"];
    static readonly string[] StepKeys = ["delay", "at", "action", "variants"];
    static readonly string[] Ops = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "notIn", "contains", "exists"];

    /// <summary>Parses and checks <paramref name="yaml"/>; throws <see cref="RulesRejectedException"/> listing every error.</summary>
    /// <param name="file">The name used in messages, e.g. <c>rules/default.yaml</c>.</param>
    public static RuleSet Parse(string yaml, string file, TemplateCatalog? templates = null) => ParseMany([(file, yaml)], templates);

    /// <summary>
    /// Parses the files of a rules folder as one rule set: campaigns from every file (ids unique across
    /// them), <c>phases</c> merged, <c>phaseModel</c> and <c>defaults</c> set in at most one file. Any
    /// error in any file refuses the whole set.
    /// </summary>
    /// <param name="templates">The installation's email templates: each <c>template:</c> must name one that exists in every locale
    /// it sends. Null: names are only checked for their form.</param>
    public static RuleSet ParseMany(IEnumerable<(string File, string Yaml)> files, TemplateCatalog? templates = null)
    {
        var context = new ParseContext { Templates = templates };
        var roots = new List<(string File, YamlMappingNode Root)>();
        foreach (var (file, yaml) in files)
        {
            context.File = file;
            if (YamlLimits.Check(yaml, file) is { } tooMuch)
            {
                context.Errors.Add(tooMuch);
                continue;
            }
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(yaml));
            }
            catch (YamlException ex)
            {
                context.Errors.Add(new RuleError(file, (int)ex.Start.Line, (int)ex.Start.Column, null, "not valid YAML: " + Unwrap(ex).Message));
                continue;
            }
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                context.Errors.Add(new RuleError(file, 1, 1, null, "a rules file is a mapping with " + string.Join(", ", RootKeys)));
                continue;
            }
            roots.Add((file, root));
        }
        // The phase model first: every file's phase names are read in its vocabulary.
        foreach (var (file, root) in roots)
        {
            context.File = file;
            context.Model(root);
        }
        foreach (var (file, root) in roots)
        {
            context.File = file;
            context.Root(root);
        }
        if (context.Errors.Count > 0)
            throw new RulesRejectedException(context.Errors);
        return context.Build();
    }

    /// <summary>
    /// A segment written in a query: a condition of the rules' language as <c>traits.persona eq runner</c> (clauses joined by
    /// <c>and</c>; a value as YAML writes it: <c>[nl, be]</c>, <c>25</c>, <c>true</c>), or one condition in YAML flow form
    /// (<c>{ any: [ ... ] }</c>). Phase names are read in <paramref name="phaseModel"/>. Throws <see cref="RulesRejectedException"/>.
    /// </summary>
    public static Condition ParseSegment(string text, string phaseModel)
    {
        var trimmed = text.Trim();
        string condition;
        if (trimmed.StartsWith('{'))
            condition = trimmed;
        else
        {
            var clauses = AndPattern().Split(trimmed).Select(clause =>
            {
                var parts = clause.Trim().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 2)
                    throw new RulesRejectedException([new RuleError("segment", 1, 1, null, $"'{clause.Trim()}' is not FIELD OP VALUE, e.g. traits.persona eq runner")]);
                return parts.Length == 2 ? $"{{ field: {parts[0]}, op: {parts[1]} }}" : $"{{ field: {parts[0]}, op: {parts[1]}, value: {parts[2]} }}";
            }).ToList();
            condition = clauses.Count == 1 ? clauses[0] : $"{{ all: [ {string.Join(", ", clauses)} ] }}";
        }
        var rules = Parse($"phaseModel: {phaseModel}\nsegments:\n  query: {condition}\ncampaigns: []\n", "segment");
        return rules.Segments["query"];
    }

    [GeneratedRegex(@"\s+and\s+", RegexOptions.IgnoreCase)]
    private static partial Regex AndPattern();

    static Exception Unwrap(Exception ex) => ex.InnerException is YamlException inner ? Unwrap(inner) : ex;

    /// <summary>Parses <c>30d</c>, <c>1h</c>, <c>15m</c>, <c>45s</c>, <c>2w</c>.</summary>
    /// <summary>Why Quartz refuses a cron expression, or null when it accepts it.</summary>
    static string? CronProblem(string cron)
    {
        try
        {
            _ = new Quartz.CronExpression(cron);
            return null;
        }
        catch (FormatException ex)
        {
            return ex.Message.TrimEnd('.');
        }
    }

    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = default;
        var m = text is null ? null : DurationPattern().Match(text.Trim());
        if (m is null || !m.Success)
            return false;
        var n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        duration = m.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            _ => TimeSpan.FromDays(7 * n),
        };
        return true;
    }

    [GeneratedRegex(@"^(\d{1,6})(s|m|h|d|w)$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,79}$")]
    private static partial Regex CampaignIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")]
    private static partial Regex TemplateNamePattern();

    [GeneratedRegex(@"^(traits|properties|context)\.[A-Za-z0-9_.-]+$|^phase$|^orders\.(count|total)$")]
    private static partial Regex FieldPattern();

    /// <summary>A condition's field: a key's, or the trigger event's type (<c>event.type</c>).</summary>
    static bool IsConditionField(string field) => field == "event.type" || FieldPattern().IsMatch(field);

    sealed class ParseContext
    {
        public List<RuleError> Errors { get; } = [];
        public string File { get; set; } = "";
        public TemplateCatalog? Templates { get; init; }
        string? _campaign;
        (string Name, string File)? _model;
        (RuleDefaults Defaults, string File)? _defaults;
        readonly Dictionary<string, (Phase Phase, string File)> _overrides = new(StringComparer.Ordinal);
        readonly Dictionary<string, string> _campaignFiles = new(StringComparer.Ordinal);
        readonly List<Campaign> _campaigns = [];
        (TimeSpan After, string File)? _abandonment;
        readonly Dictionary<string, (Condition Condition, string File)> _segments = new(StringComparer.Ordinal);

        void Error(YamlNode node, string message) =>
            Errors.Add(new RuleError(File, (int)node.Start.Line, (int)node.Start.Column, _campaign, message));

        public RuleSet Build() => new(
            _model?.Name ?? "five-phase",
            PhaseModel.Default.With(_overrides.ToDictionary(kv => kv.Key, kv => kv.Value.Phase), Vocabulary),
            _defaults?.Defaults ?? new RuleDefaults(TimeZoneInfo.Utc, null, []),
            _campaigns)
        {
            DeriveCartAbandonedAfter = _abandonment?.After,
            Segments = _segments.ToDictionary(kv => kv.Key, kv => kv.Value.Condition, StringComparer.Ordinal),
        };

        /// <summary>The phases the files' names are read in (<c>phaseModel</c>, default five-phase).</summary>
        PhaseVocabulary Vocabulary => _model is { } m ? PhaseVocabulary.All[m.Name] : PhaseVocabulary.FivePhase;

        public void Model(YamlMappingNode root)
        {
            if (Scalar(root, "phaseModel") is { } modelName)
            {
                if (!PhaseVocabulary.All.ContainsKey(modelName))
                    Error(Node(root, "phaseModel")!, $"unknown phaseModel '{modelName}'; use one of {string.Join(", ", PhaseModels)}");
                else if (_model is { } set && set.Name != modelName)
                    Error(Node(root, "phaseModel")!, $"phaseModel '{modelName}' differs from '{set.Name}' in {set.File}; set it in one file");
                else
                    _model = (modelName, File);
            }
        }

        public void Root(YamlMappingNode root)
        {
            CheckKeys(root, RootKeys, "a rules file");
            if (Node(root, "phases") is { } phasesNode)
            {
                if (phasesNode is not YamlMappingNode phases)
                    Error(phasesNode, "phases maps a phase to a list of event types, e.g. consideration: [product_viewed]");
                else
                    foreach (var (key, value) in phases.Children)
                    {
                        if (!Vocabulary.TryParse(((YamlScalarNode)key).Value, out var phase))
                        {
                            Error(key, $"unknown phase '{((YamlScalarNode)key).Value}' in phaseModel {Vocabulary.Name}; use {Vocabulary.Accepted()}");
                            continue;
                        }
                        foreach (var type in StringList(value, "event types"))
                        {
                            if (_overrides.TryGetValue(type, out var earlier) && earlier.Phase != phase)
                                Error(value, $"event type '{type}' is already mapped to {earlier.Phase.ToName()} in {earlier.File}");
                            else
                                _overrides[type] = (phase, File);
                        }
                    }
            }

            if (Node(root, "defaults") is { } defaultsNode)
            {
                if (_defaults is { } set)
                    Error(defaultsNode, $"defaults are already set in {set.File}; set them in one file");
                else if (Defaults(defaultsNode) is { } defaults)
                    _defaults = (defaults, File);
            }

            if (Node(root, "segments") is { } segmentsNode)
            {
                if (segmentsNode is not YamlMappingNode segments)
                    Error(segmentsNode, "segments maps a name to a condition, e.g. segments: { runners: { field: traits.persona, op: eq, value: runner } }");
                else
                    foreach (var (key, value) in segments.Children)
                    {
                        var name = ((YamlScalarNode)key).Value ?? "";
                        if (!CampaignIdPattern().IsMatch(name))
                            Error(key, $"segment name '{name}' may use lower-case letters, digits and '-' (up to 80)");
                        else if (_segments.TryGetValue(name, out var earlier))
                            Error(key, $"segment '{name}' is already declared in {earlier.File}; declare it once");
                        else if (Conditions(value) is { } condition)
                        {
                            if (ConditionFields(condition).FirstOrDefault(f => f.StartsWith("properties.", StringComparison.Ordinal)
                                    || f.StartsWith("context.", StringComparison.Ordinal) || f == "event.type") is { } eventField)
                                Error(value, $"segment '{name}' uses {eventField}, which belongs to a trigger event; a segment is judged on the customer (traits.*, phase, orders.*)");
                            else
                                _segments[name] = (condition, File);
                        }
                    }
            }

            if (Node(root, "derive") is { } deriveNode)
            {
                if (deriveNode is not YamlMappingNode derive)
                    Error(deriveNode, "derive is a mapping, e.g. derive: { cartAbandoned: { after: 1h } }");
                else
                {
                    CheckKeys(derive, DeriveKeys, "derive");
                    if (Node(derive, "cartAbandoned") is { } cartNode)
                    {
                        if (cartNode is not YamlMappingNode cart)
                            Error(cartNode, "cartAbandoned takes { after: DURATION }: a cart_updated or checkout_started with no order_placed within it becomes a cart_abandoned");
                        else if (_abandonment is { } set)
                            Error(cartNode, $"derive.cartAbandoned is already set in {set.File}; set it in one file");
                        else
                        {
                            CheckKeys(cart, ["after"], "cartAbandoned");
                            if (Duration(cart, "after", required: true, bounds: "cartAbandoned.after") is { } after)
                                _abandonment = (after, File);
                        }
                    }
                }
            }

            if (Node(root, "campaigns") is not { } campaignsNode)
                return;
            if (campaignsNode is not YamlSequenceNode list)
            {
                Error(campaignsNode, "campaigns is a list: each item starts with '- id: ...'");
                return;
            }
            foreach (var item in list)
            {
                _campaign = null;
                if (Campaign(item) is { } campaign)
                {
                    if (_campaignFiles.TryGetValue(campaign.Id, out var firstFile))
                        Error(item, $"campaign id '{campaign.Id}' is used twice (also in {firstFile}); ids are unique");
                    else if (_campaigns.Count == RuleLimits.MaxCampaigns)
                        Error(item, $"campaign '{campaign.Id}' is one too many: a rule set has at most {RuleLimits.MaxCampaigns} campaigns");
                    else
                    {
                        _campaignFiles[campaign.Id] = File;
                        _campaigns.Add(campaign);
                    }
                }
            }
            _campaign = null;
        }

        RuleDefaults? Defaults(YamlNode node)
        {
            var zone = TimeZoneInfo.Utc;
            SendWindow? window = null;
            var caps = new List<FrequencyCap>();
            if (node is not YamlMappingNode map)
            {
                Error(node, "defaults is a mapping with " + string.Join(", ", DefaultsKeys));
                return null;
            }
            CheckKeys(map, DefaultsKeys, "defaults");
            if (Scalar(map, "timeZone") is { } zoneName)
            {
                if (!TimeZoneInfo.TryFindSystemTimeZoneById(zoneName, out var found))
                    Error(Node(map, "timeZone")!, $"unknown time zone '{zoneName}'; use an IANA name such as Europe/Amsterdam");
                else
                    zone = found;
            }
            if (Node(map, "sendWindow") is { } windowNode)
            {
                if (windowNode is YamlMappingNode w && Time(w, "from") is { } from && Time(w, "to") is { } to)
                {
                    if (from == to)
                        Error(windowNode, "sendWindow from and to are equal; leave sendWindow out to send at any time");
                    window = new SendWindow(from, to);
                }
                else if (windowNode is not YamlMappingNode)
                    Error(windowNode, "sendWindow is { from: \"08:00\", to: \"21:00\" }");
            }
            if (Node(map, "frequencyCap") is { } capNode)
            {
                var capNodes = capNode is YamlSequenceNode seq ? seq.Children : [capNode];
                foreach (var c in capNodes)
                {
                    if (c is not YamlMappingNode cap)
                    {
                        Error(c, "frequencyCap is { channel: email, max: 3, per: 7d } (or a list of them)");
                        continue;
                    }
                    CheckKeys(cap, ["channel", "max", "per", "onCap"], "frequencyCap");
                    var channel = Required(cap, "channel", "frequencyCap");
                    if (channel is not null && !ChannelKinds.Capped.Contains(channel))
                        Error(Node(cap, "channel")!, $"unknown channel '{channel}'; use one of {string.Join(", ", ChannelKinds.Capped)}");
                    var max = Int(cap, "max", 1, 1000);
                    var per = Duration(cap, "per", required: true);
                    var onCap = Scalar(cap, "onCap") ?? "defer";
                    if (onCap is not ("defer" or "skip"))
                        Error(Node(cap, "onCap")!, $"unknown onCap '{onCap}'; use defer or skip");
                    if (channel is not null && max is not null && per is not null)
                        caps.Add(new FrequencyCap(channel, max.Value, per.Value, onCap == "skip" ? CapBehaviour.Skip : CapBehaviour.Defer));
                }
            }
            return new RuleDefaults(zone, window, caps);
        }

        Campaign? Campaign(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node, "a campaign is a mapping that starts with 'id:'");
                return null;
            }
            var id = Required(map, "id", "a campaign");
            _campaign = id;
            if (id is not null && !CampaignIdPattern().IsMatch(id))
                Error(Node(map, "id")!, $"campaign id '{id}' may use lower-case letters, digits and '-' (up to 80)");
            CheckKeys(map, CampaignKeys, "a campaign");

            Trigger? trigger = null;
            if (Node(map, "trigger") is not { } triggerNode)
                Error(map, "trigger is missing; use one of " + string.Join(", ", TriggerKinds));
            else
                trigger = Trigger(triggerNode);

            var key = Scalar(map, "key");
            if (key is not null && !FieldPattern().IsMatch(key))
                Error(Node(map, "key")!, $"key '{key}' is not a field; use properties.*, traits.* or context.*");
            var conditions = Node(map, "conditions") is { } c ? Conditions(c) : null;
            var exitOn = Node(map, "exitOn") is { } e ? StringList(e, "event types") : [];

            TimeSpan? reentry = null;
            if (Node(map, "reentry") is { } reentryNode)
            {
                if (reentryNode is YamlMappingNode r)
                {
                    CheckKeys(r, ["after"], "reentry");
                    reentry = Duration(r, "after", required: true);
                }
                else if (reentryNode is not YamlScalarNode { Value: "never" })
                    Error(reentryNode, "reentry is { after: 30d } or never (the default: once per customer)");
            }

            var holdout = 0.0;
            if (Scalar(map, "holdout") is { } holdoutText)
            {
                var number = holdoutText.TrimEnd('%');
                if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || percent is < 0 or > 100)
                    Error(Node(map, "holdout")!, $"holdout '{holdoutText}' is a share of customers from 0% to 100%, e.g. 10%");
                else
                    holdout = percent / 100;
            }
            var priority = Node(map, "priority") is null ? 0 : Int(map, "priority", -1000, 1000) ?? 0;
            var transactional = Bool(map, "transactional") ?? false;
            var onChange = Scalar(map, "onChange") ?? "finish";
            if (onChange is not ("finish" or "exit"))
                Error(Node(map, "onChange")!, $"unknown onChange '{onChange}'; use finish (pending steps finish under their version) or exit");

            var steps = new List<Step>();
            if (Node(map, "steps") is not { } stepsNode)
                Error(map, "steps is missing: a list of steps, each with an action");
            else if (stepsNode is not YamlSequenceNode stepList || stepList.Children.Count == 0)
                Error(stepsNode, "steps is a non-empty list: - delay: 1h / action: { kind: email, template: ... }");
            else if (stepList.Children.Count > RuleLimits.MaxSteps)
                Error(stepsNode, $"a campaign has at most {RuleLimits.MaxSteps} steps (this one has {stepList.Children.Count})");
            else
                foreach (var s in stepList)
                    if (Step(s) is { } step)
                        steps.Add(step);

            var goal = Goal.Default;
            if (Node(map, "goal") is { } goalNode)
            {
                if (goalNode is not YamlMappingNode g)
                    Error(goalNode, "goal is { event: order_placed, within: 7d }: the event that counts as this campaign's conversion, and how long after");
                else
                {
                    CheckKeys(g, ["event", "within"], "goal");
                    var goalEvent = Scalar(g, "event") ?? Goal.Default.Event;
                    if (goalEvent.Length is 0 or > 64)
                        Error(Node(g, "event") ?? g, "goal event is an event type, e.g. order_placed");
                    var within = Node(g, "within") is null ? Goal.Default.Within : Duration(g, "within", required: true) ?? Goal.Default.Within;
                    goal = new Goal(goalEvent, within);
                }
            }

            if (trigger is ScheduleTrigger && key is not null)
                Error(Node(map, "key")!, "a scheduled campaign has no trigger event to take a key from; leave key out");

            return id is null || trigger is null
                ? null
                : new Campaign(id, Scalar(map, "description"), trigger, key, conditions, exitOn, reentry, holdout, priority, transactional,
                    onChange == "exit" ? ChangeBehaviour.Exit : ChangeBehaviour.Finish, steps) { Goal = goal };
        }

        static IEnumerable<string> ConditionFields(Condition condition) => condition switch
        {
            Comparison c => [c.Field],
            AllCondition all => all.Parts.SelectMany(ConditionFields),
            AnyCondition any => any.Parts.SelectMany(ConditionFields),
            NotCondition not => ConditionFields(not.Part),
            _ => [],
        };

        Trigger? Trigger(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node, "trigger is a mapping, e.g. { event: cart_abandoned }");
                return null;
            }
            CheckKeys(map, [.. TriggerKinds, "inPhase", "segment"], "trigger");
            var kinds = TriggerKinds.Where(k => Node(map, k) is not null).ToList();
            if (kinds.Count != 1)
            {
                Error(node, kinds.Count == 0
                    ? "trigger needs one of " + string.Join(", ", TriggerKinds)
                    : $"trigger has {string.Join(" and ", kinds)}; use exactly one");
                return null;
            }
            if (Node(map, "inPhase") is { } inPhaseNode && kinds[0] != "inactiveFor")
                Error(inPhaseNode, "inPhase goes with inactiveFor only");
            if (Node(map, "segment") is { } segmentNode && kinds[0] != "schedule")
                Error(segmentNode, "segment goes with schedule only");
            switch (kinds[0])
            {
                case "event":
                    return Scalar(map, "event") is { Length: > 0 } type ? new EventTrigger(type) : null;
                case "phaseEntered":
                    return PhaseValue(map, "phaseEntered") is { } phase ? new PhaseEnteredTrigger(phase) : null;
                case "inactiveFor":
                    var inactive = Duration(map, "inactiveFor", required: true);
                    Phase? inPhase = Node(map, "inPhase") is null ? null : PhaseValue(map, "inPhase");
                    return inactive is null ? null : new InactivityTrigger(inactive.Value, inPhase);
                default:
                    var cron = Scalar(map, "schedule");
                    var cronError = cron is null ? "it is empty"
                        : cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length is not (6 or 7) ? "it needs 6 or 7 fields"
                        : CronProblem(cron);
                    if (cronError is not null)
                    {
                        Error(Node(map, "schedule")!, $"schedule '{cron}' is not a Quartz cron expression ({cronError}); write sec min hour day-of-month month day-of-week [year], e.g. \"0 0 9 ? * MON\"");
                        return null;
                    }
                    var segment = Node(map, "segment") is { } s ? Conditions(s) : null;
                    return new ScheduleTrigger(cron!, segment);
            }
        }

        /// <summary>A campaign's or a segment's conditions: a <see cref="Condition"/> of at most <see cref="RuleLimits.MaxComparisons"/> comparisons.</summary>
        Condition? Conditions(YamlNode node)
        {
            var condition = Condition(node);
            if (condition is not null && ConditionFields(condition).Count() is > RuleLimits.MaxComparisons and var count)
            {
                Error(node, $"conditions hold at most {RuleLimits.MaxComparisons} comparisons (these hold {count})");
                return null;
            }
            return condition;
        }

        Condition? Condition(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node, "a condition is { field, op, value } or all: / any: / not:");
                return null;
            }
            foreach (var group in new[] { "all", "any" })
            {
                if (Node(map, group) is not { } partsNode)
                    continue;
                CheckKeys(map, [group], "a condition group");
                if (partsNode is not YamlSequenceNode parts)
                {
                    Error(partsNode, $"{group} is a list of conditions");
                    return null;
                }
                var list = parts.Select(Condition).OfType<Condition>().ToList();
                return group == "all" ? new AllCondition(list) : new AnyCondition(list);
            }
            if (Node(map, "not") is { } notNode)
            {
                CheckKeys(map, ["not"], "a condition group");
                return Condition(notNode) is { } inner ? new NotCondition(inner) : null;
            }
            CheckKeys(map, ["field", "op", "value"], "a condition");
            var field = Required(map, "field", "a condition");
            if (field is not null && !IsConditionField(field))
            {
                Error(Node(map, "field")!, $"unknown field '{field}'; use one of {string.Join(", ", FieldRoots)}");
                field = null;
            }
            var opText = Required(map, "op", "a condition");
            var op = opText is null ? (int?)null : Array.IndexOf(Ops, opText);
            if (op == -1)
            {
                Error(Node(map, "op")!, $"unknown op '{opText}'; use one of {string.Join(", ", Ops)}");
                op = null;
            }
            var valueNode = Node(map, "value");
            if (op is not null && Ops[op.Value] != "exists" && valueNode is null)
                Error(map, $"op '{opText}' needs a value");
            if (op is not null && Ops[op.Value] is "in" or "notIn" && valueNode is not null and not YamlSequenceNode)
                Error(valueNode, $"op '{opText}' takes a list value, e.g. [nl, be]");
            if (valueNode is YamlSequenceNode { Children.Count: > RuleLimits.MaxListValues } values)
                Error(valueNode, $"a list value has at most {RuleLimits.MaxListValues} items (this one has {values.Children.Count})");
            var value = valueNode is null ? null : Json(valueNode);
            if (field == "phase" && op is not null && Ops[op.Value] is "eq" or "ne" or "in" or "notIn" && value is not null)
                value = PhaseNamesIn(value, valueNode!);
            return field is null || op is null ? null : new Comparison(field, (ComparisonOp)op.Value, value);
        }

        /// <summary>A phase condition's value(s) in the stored names (care → retention), each checked against the model.</summary>
        JsonNode? PhaseNamesIn(JsonNode value, YamlNode node)
        {
            if (value is JsonArray list)
                return new JsonArray(list.Select(v => v is null ? null : PhaseNamesIn(v, node)).ToArray());
            if (value is JsonValue v && v.TryGetValue<string>(out var name) && Vocabulary.TryParse(name, out var phase))
                return JsonValue.Create(phase.ToName());
            Error(node, $"'{value.ToJsonString().Trim('"')}' is not a phase of {Vocabulary.Name}; use {Vocabulary.Accepted()}");
            return value;
        }

        Step? Step(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node, "a step is a mapping with an action (and optionally delay or at)");
                return null;
            }
            CheckKeys(map, StepKeys, "a step");
            var delay = Node(map, "delay") is null ? TimeSpan.Zero : Duration(map, "delay", required: true);
            var at = Node(map, "at") is null ? null : Time(map, "at");
            var variants = new List<Variant>();
            var actionNode = Node(map, "action");
            var variantsNode = Node(map, "variants");
            if ((actionNode is null) == (variantsNode is null))
            {
                Error(node, "a step has either action or variants");
                return null;
            }
            if (actionNode is not null)
            {
                if (Action(actionNode) is { } action)
                    variants.Add(new Variant(100, action));
            }
            else if (variantsNode is not YamlSequenceNode list || list.Children.Count < 2)
                Error(variantsNode!, "variants is a list of at least two { weight, action }");
            else if (list.Children.Count > RuleLimits.MaxVariants)
                Error(variantsNode, $"a step has at most {RuleLimits.MaxVariants} variants (this one has {list.Children.Count})");
            else
            {
                foreach (var v in list)
                {
                    if (v is not YamlMappingNode vm)
                    {
                        Error(v, "a variant is { weight: 50, action: { ... } }");
                        continue;
                    }
                    CheckKeys(vm, ["weight", "action"], "a variant");
                    var weight = Int(vm, "weight", 1, 100);
                    var action = Node(vm, "action") is { } an ? Action(an) : null;
                    if (Node(vm, "action") is null)
                        Error(vm, "a variant needs an action");
                    if (weight is not null && action is not null)
                        variants.Add(new Variant(weight.Value, action));
                }
                if (variants.Count == list.Children.Count && variants.Sum(v => v.Weight) != 100)
                    Error(variantsNode, $"variant weights add up to {variants.Sum(v => v.Weight)}; they must add up to 100");
            }
            return delay is null || variants.Count == 0 ? null : new Step(delay.Value, at, variants);
        }

        RuleAction? Action(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node, "an action is a mapping with kind, e.g. { kind: email, template: cart-reminder }");
                return null;
            }
            var kind = Required(map, "kind", "an action");
            if (kind is null)
                return null;
            if (ChannelKinds.Find(kind) is not { } described)
            {
                Error(Node(map, "kind")!, $"unknown action kind '{kind}'; use one of {string.Join(", ", ActionKinds)}");
                return null;
            }
            CheckKeys(map, ["kind", .. described.Settings], $"{Article(kind)} {kind} action");
            foreach (var required in described.Required)
                Required(map, required, described.Durations.Contains(required) ? $"{Article(kind)} {kind} action (e.g. {required}: 72h)" : $"{Article(kind)} {kind} action");
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                var name = ((YamlScalarNode)k).Value!;
                if (name == "kind")
                    continue;
                if (v is not YamlScalarNode scalar)
                    Error(v, $"{name} is a single value");
                else
                    values[name] = scalar.Value ?? "";
            }
            foreach (var durationKey in described.Durations)
                if (values.ContainsKey(durationKey))
                    Duration(map, durationKey, required: true);
            if (kind == "offer")
            {
                var hasPercent = values.TryGetValue("discountPercent", out var percentText);
                var hasAmount = values.TryGetValue("amount", out var amountText);
                if (hasPercent == hasAmount)
                    Error(map, "an offer has either discountPercent or amount");
                else if (hasPercent && (!decimal.TryParse(percentText, NumberStyles.Number, CultureInfo.InvariantCulture, out var p) || p is <= 0 or > 100))
                    Error(Node(map, "discountPercent")!, $"discountPercent '{percentText}' is a number above 0 and at most 100");
                else if (hasAmount && (!decimal.TryParse(amountText, NumberStyles.Number, CultureInfo.InvariantCulture, out var a) || a <= 0 || a > RuleLimits.MaxOfferAmount))
                    Error(Node(map, "amount")!, $"amount '{amountText}' is a number above 0 and at most {RuleLimits.MaxOfferAmount:0}");
            }
            if (kind is "email" or "offer" && values.TryGetValue("template", out var template))
            {
                if (!TemplateNamePattern().IsMatch(template))
                    Error(Node(map, "template")!, $"template '{template}' is a template's folder name: letters, digits, '-' and '_' (up to 80), no path");
                else if (Templates?.Problem(template) is { } missing)
                    Error(Node(map, "template")!, missing);
            }
            foreach (var addressKey in new[] { "from", "replyTo" })
                if (kind == "email" && values.TryGetValue(addressKey, out var address) && !IsMailbox(address))
                    Error(Node(map, addressKey)!, $"{addressKey} '{address}' is not an email address like \"Shop <news@shop.example>\" or news@shop.example");
            if (kind == "phase" && values.TryGetValue("set", out var setPhase))
            {
                if (Vocabulary.TryParse(setPhase, out var target))
                    values["set"] = target.ToName();
                else
                    Error(Node(map, "set")!, $"set '{setPhase}' is not a phase of {Vocabulary.Name}; use {Vocabulary.Accepted()}");
            }
            if (kind == "webhook" && values.TryGetValue("url", out var url)
                && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"))
                Error(Node(map, "url")!, $"url '{url}' is not an http(s) address");
            return new RuleAction(kind, values);
        }

        /// <summary>One address, with or without a display name (what the email channel's MailKit then parses too).</summary>
        static bool IsMailbox(string text) =>
            !text.Contains(',') && System.Net.Mail.MailAddress.TryCreate(text.Trim(), out var parsed);

        static string Article(string word) => "aeiou".Contains(word[0]) ? "an" : "a";

        // --- small readers ---------------------------------------------------------------------

        static YamlNode? Node(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        string? Scalar(YamlMappingNode map, string key)
        {
            var node = Node(map, key);
            if (node is null)
                return null;
            if (node is YamlScalarNode scalar)
                return scalar.Value;
            Error(node, $"{key} is a single value");
            return null;
        }

        string? Required(YamlMappingNode map, string key, string what)
        {
            var value = Scalar(map, key);
            if (value is null && Node(map, key) is null)
                Error(map, $"{what} needs {key}");
            else if (value is { Length: 0 })
                Error(Node(map, key)!, $"{key} is empty");
            return string.IsNullOrEmpty(value) ? null : value;
        }

        void CheckKeys(YamlMappingNode map, string[] allowed, string what)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value;
                if (name is null || !allowed.Contains(name))
                    Error(key, $"unknown key '{name}' in {what}; use one of {string.Join(", ", allowed)}");
            }
        }

        /// <summary>A duration within the bounds of <paramref name="bounds"/> (default: the key's; <see cref="RuleLimits.DurationBounds"/>).</summary>
        TimeSpan? Duration(YamlMappingNode map, string key, bool required, string? bounds = null)
        {
            var text = Scalar(map, key);
            if (text is null)
            {
                if (required && Node(map, key) is null)
                    Error(map, $"{key} is missing: a duration such as 30m, 1h, 7d");
                return null;
            }
            if (!TryParseDuration(text, out var value))
            {
                Error(Node(map, key)!, $"{key} '{text}' is not a duration; use a number with s, m, h, d or w, e.g. 1h or 30d");
                return null;
            }
            var (min, max) = RuleLimits.DurationBounds(bounds ?? key);
            if (value >= min && value <= max)
                return value;
            Error(Node(map, key)!, $"{key} '{text}' is out of range: from {RuleLimits.Describe(min)} to {RuleLimits.Describe(max)}");
            return null;
        }

        TimeOnly? Time(YamlMappingNode map, string key)
        {
            var text = Scalar(map, key);
            if (text is not null && TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
                return time;
            Error(Node(map, key) ?? map, $"{key} '{text}' is not a local time; use HH:mm, e.g. \"08:00\"");
            return null;
        }

        int? Int(YamlMappingNode map, string key, int min, int max)
        {
            var text = Scalar(map, key);
            if (text is not null && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
                return value;
            Error(Node(map, key) ?? map, $"{key} '{text}' is a whole number from {min} to {max}");
            return null;
        }

        bool? Bool(YamlMappingNode map, string key)
        {
            var text = Scalar(map, key);
            if (text is null)
                return null;
            if (text is "true" or "false")
                return text == "true";
            Error(Node(map, key)!, $"{key} '{text}' is true or false");
            return null;
        }

        Phase? PhaseValue(YamlMappingNode map, string key)
        {
            var text = Scalar(map, key);
            if (Vocabulary.TryParse(text, out var phase))
                return phase;
            Error(Node(map, key)!, $"unknown phase '{text}' in phaseModel {Vocabulary.Name}; use {Vocabulary.Accepted()}");
            return null;
        }

        List<string> StringList(YamlNode node, string what)
        {
            if (node is YamlScalarNode { Value: { Length: > 0 } one })
                return [one];
            if (node is YamlSequenceNode seq && seq.Children.All(c => c is YamlScalarNode { Value.Length: > 0 }))
                return seq.Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
            Error(node, $"a list of {what}, e.g. [order_placed]");
            return [];
        }

        static JsonNode? Json(YamlNode node) => node switch
        {
            YamlSequenceNode seq => new JsonArray(seq.Children.Select(Json).ToArray()),
            YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Json(kv.Value)))),
            YamlScalarNode { Style: ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted } quoted => JsonValue.Create(quoted.Value),
            YamlScalarNode { Value: null or "null" or "~" } => null,
            YamlScalarNode { Value: "true" } => JsonValue.Create(true),
            YamlScalarNode { Value: "false" } => JsonValue.Create(false),
            YamlScalarNode s when decimal.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
            YamlScalarNode s => JsonValue.Create(s.Value),
            _ => null,
        };
    }
}
