using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Rules;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Api;

/// <summary><c>/api/funnel</c>: the connected funnel of the phases, counted by the funnel job (Infrastructure/Journeys/FunnelCounters).</summary>
internal static class FunnelApi
{
    /// <summary><c>GET /api/funnel?model=&amp;from=&amp;to=&amp;segment=&amp;device=</c> (viewer).</summary>
    public static async Task<IResult> GetAsync(string? model, string? from, string? to, string? segment, string? device, ActiveRules rules,
        FunnelCounters funnel, IOptions<FunnelOptions> options, TimeProvider time, CancellationToken ct) =>
        await ReadAsync(model, from, to, segment, device, rules, funnel, options.Value, time, ct) is var (view, problem) && problem is null
            ? Results.Ok(view) : problem!;

    /// <summary>
    /// <c>GET /api/funnel</c>'s parameters checked (a bad model, device, period or segment is a 400 naming it) and the funnel
    /// read; the dashboard's chart takes the same.
    /// </summary>
    internal static async Task<(FunnelView? View, IResult? Problem)> ReadAsync(string? model, string? from, string? to, string? segment, string? device,
        ActiveRules rules, FunnelCounters funnel, FunnelOptions options, TimeProvider time, CancellationToken ct)
    {
        if (ApiParameters.OneOf("model", model, Core.Rules.RulesParser.PhaseModels) is { } badModel)
            return (null, badModel);
        if (ApiParameters.OneOf("device", device, ["single", "cross"]) is { } badDevice)
            return (null, badDevice);
        var (start, end, badPeriod) = ApiParameters.Period(from, to, time.GetUtcNow());
        if (badPeriod is not null)
            return (null, badPeriod);
        Core.Rules.Condition? condition = null;
        if (!string.IsNullOrWhiteSpace(segment) && !rules.Current.Rules.Segments.TryGetValue(segment, out condition))
        {
            try
            {
                condition = Core.Rules.RulesParser.ParseSegment(segment, rules.Current.Rules.PhaseModelName);
            }
            catch (Core.Rules.RulesRejectedException ex)
            {
                var named = rules.Current.Rules.Segments.Keys.Order(StringComparer.Ordinal).ToList();
                return (null, Results.Problem(statusCode: 400, title: "Invalid parameter 'segment'",
                    detail: $"'segment' is a named segment{(named.Count == 0 ? "" : " (" + string.Join(", ", named) + ")")} or a condition such as traits.persona eq runner: " +
                        string.Join("; ", ex.Errors.Select(e => e.Message)),
                    extensions: new Dictionary<string, object?> { ["parameter"] = "segment" }));
            }
        }
        // Without a model: the one the rules in force run on.
        return (await funnel.ReadAsync(model is null ? rules.Current.Vocabulary : Core.Phases.PhaseVocabulary.All[model], start, end, device is null ? null : device == "cross", condition,
            options.SegmentScanLimit, ct), null);
    }
}
