using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Worker.Security;

namespace CampaignOrchestrator.Worker.Api;

/// <summary><c>/api/rules</c> and <c>/api/campaigns</c>: the campaigns in force, their funnel per step, results, log, and cancelling one's actions.</summary>
internal static class CampaignsApi
{
    /// <summary><c>GET /api/rules</c> (viewer): the rules in force, their version and files.</summary>
    public static IResult Rules(ActiveRules rules) => Results.Ok(rules.Status);

    /// <summary><c>GET /api/campaigns</c> (viewer): the campaigns in force.</summary>
    public static IResult List(ActiveRules rules)
    {
        var current = rules.Current;
        return Results.Ok(new
        {
            version = current.Version,
            phaseModel = current.Vocabulary.Name,
            campaigns = current.Campaigns.Select(c => new
            {
                c.Id, c.Description, trigger = c.Trigger.Describe(current.Vocabulary), steps = c.Steps.Count, c.Transactional, c.Priority,
                holdout = c.HoldoutShare, fingerprint = current.Fingerprints[c.Id],
            }),
        });
    }

    /// <summary><c>GET /api/campaigns/{id}</c> (viewer): the funnel per step.</summary>
    public static async Task<IResult> SummaryAsync(string id, ActionStore campaigns, CancellationToken ct) =>
        ApiParameters.Id("id", id) ?? Results.Ok(await campaigns.SummaryAsync(id, ct));

    /// <summary>
    /// <c>GET /api/campaigns/{id}/results?from=&amp;to=&amp;segment=</c> (viewer): results over a period with the lift over the
    /// holdout (Infrastructure/Actions/CampaignResults.cs).
    /// </summary>
    public static async Task<IResult> ResultsAsync(string id, string? from, string? to, string? segment, ActiveRules rules, CampaignResults results,
        TimeProvider time, CancellationToken ct)
    {
        var segments = rules.Current.Rules.Segments;
        if (segment is not null && !segments.ContainsKey(segment))
            return segments.Count == 0
                ? Results.Problem(statusCode: 400, title: "Invalid parameter 'segment'", detail: $"'segment' names a segment, and the rules in force declare none (segments: in a rules file)",
                    extensions: new Dictionary<string, object?> { ["parameter"] = "segment" })
                : ApiParameters.OneOf("segment", segment, segments.Keys.Order(StringComparer.Ordinal).ToList())!;
        if (ApiParameters.Id("id", id) is { } badId)
            return badId;
        var (start, end, badPeriod) = ApiParameters.Period(from, to, time.GetUtcNow());
        if (badPeriod is not null)
            return badPeriod;
        // The goal the rules in force give the campaign; a campaign no longer in the rules is measured by the default.
        var goal = rules.Current.Rules.Campaigns.FirstOrDefault(c => c.Id == id)?.Goal ?? Core.Rules.Goal.Default;
        return Results.Ok(await results.ReadAsync(id, goal, start, end, ct, segment is null ? null : segments[segment]));
    }

    /// <summary><c>GET /api/campaigns/{id}/log?outcome=&amp;after=&amp;limit=</c> (viewer): the outcome log.</summary>
    public static async Task<IResult> LogAsync(string id, string? outcome, long? after, int? limit, ActionStore campaigns, CancellationToken ct)
    {
        var (from, badAfter) = ApiParameters.After("after", after);
        var (page, badLimit) = ApiParameters.Limit("limit", limit, 100);
        return ApiParameters.Id("id", id) ?? ApiParameters.OneOf("outcome", outcome, LogOutcomes) ?? badAfter ?? badLimit
            ?? Results.Ok(await campaigns.LogAsync(id, outcome, from, page, ct));
    }

    /// <summary><c>POST /api/campaigns/{id}/cancel</c> (marketer, audited): every pending action of the campaign.</summary>
    public static async Task<IResult> CancelAsync(string id, ActionStore actions, AuditLog audit, TimeProvider time, HttpContext http,
        ILoggerFactory loggers, CancellationToken ct)
    {
        if (ApiParameters.Id("id", id) is { } problem)
            return problem;
        var cancelled = await actions.CancelPendingAsync(null, id, "operator:" + http.KeyName(), time.GetUtcNow(), ct);
        await AuditApi.RecordAsync(audit, http, loggers, "campaign.cancel", id, $"{cancelled} cancelled", ct);
        return Results.Ok(new { cancelled });
    }

    static readonly string[] LogOutcomes =
        [ActionStatus.Delivered, ActionStatus.Failed, ActionStatus.Suppressed, ActionStatus.Deferred, ActionStatus.Cancelled];
}
