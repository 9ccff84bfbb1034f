using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Worker.Security;

namespace CampaignOrchestrator.Worker.Api;

/// <summary><c>/api/actions</c>: the pending actions of a campaign or a customer, and cancelling one.</summary>
internal static class ActionsApi
{
    /// <summary><c>GET /api/actions?campaign=&amp;customer=&amp;after=&amp;limit=</c> (viewer).</summary>
    public static async Task<IResult> ListPendingAsync(string? campaign, string? customer, long? after, int? limit, JourneyStore store, ActionStore actions,
        CancellationToken ct)
    {
        var (from, badAfter) = ApiParameters.After("after", after);
        var (page, badLimit) = ApiParameters.Limit("limit", limit, 100);
        if (((campaign is null ? null : ApiParameters.Id("campaign", campaign)) ?? (customer is null ? null : ApiParameters.Id("customer", customer))
            ?? badAfter ?? badLimit) is { } problem)
            return problem;
        if (campaign is null && customer is null)
            return Results.Problem(statusCode: 400, title: "Invalid parameter 'campaign'", detail: "Name a 'campaign' or a 'customer' (or both)",
                extensions: new Dictionary<string, object?> { ["parameter"] = "campaign" });
        string? profileId = null;
        if (customer is not null && (profileId = (await store.GetAsync(customer, 1, ct))?.ProfileId) is null)
            return Results.Ok(Array.Empty<PendingAction>());
        return Results.Ok(await actions.PendingAsync(campaign, profileId, from, page, ct));
    }

    /// <summary><c>POST /api/actions/{actionId}/cancel</c> (marketer, audited).</summary>
    public static async Task<IResult> CancelAsync(string actionId, ActionStore actions, AuditLog audit, TimeProvider time, HttpContext http,
        ILoggerFactory loggers, CancellationToken ct)
    {
        if (ApiParameters.Id("actionId", actionId) is { } problem)
            return problem;
        var cancelled = await actions.CancelPendingAsync(actionId, null, "operator:" + http.KeyName(), time.GetUtcNow(), ct);
        await AuditApi.RecordAsync(audit, http, loggers, "actions.cancel", actionId, $"{cancelled} cancelled", ct);
        return cancelled == 0
            ? Results.Problem(statusCode: 404, title: "No pending action", detail: "No action with that id is pending (it fired, was cancelled, or is being delivered)")
            : Results.Ok(new { cancelled });
    }
}
