using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Privacy;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Worker.Security;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Api;

/// <summary><c>/api/customers</c>: finding a customer, their journey and actions, why they got a campaign, export and erasure.</summary>
internal static class CustomersApi
{
    /// <summary>
    /// <c>GET /api/customers?emailSha256=|anonymousId=</c> (viewer): a customer found without their address in the URL (or any
    /// log): by the hash of the normalised address (Core/Journeys/EmailHash: SHA-256 of the trimmed, lower-case address, hex),
    /// or by a device's anonymousId.
    /// </summary>
    public static async Task<IResult> FindAsync(string? emailSha256, string? anonymousId, int? limit, JourneyStore store, CancellationToken ct)
    {
        var (page, badLimit) = ApiParameters.Limit("limit", limit, 20);
        if (badLimit is not null)
            return badLimit;
        if (emailSha256 is not null)
            return emailSha256.Length == 64 && emailSha256.All(char.IsAsciiHexDigitLower)
                ? Results.Ok(await store.FindByEmailAsync(emailSha256, page, ct))
                : Results.Problem(statusCode: 400, title: "Invalid parameter 'emailSha256'",
                    detail: "'emailSha256' must be the lower-case hex SHA-256 (64 characters) of the trimmed, lower-case address",
                    extensions: new Dictionary<string, object?> { ["parameter"] = "emailSha256" });
        if (anonymousId is not null)
        {
            if (ApiParameters.Id("anonymousId", anonymousId) is { } problem)
                return problem;
            var journey = await store.GetAsync(anonymousId, 1, ct);
            return Results.Ok(journey is null || !journey.AnonymousIds.Contains(anonymousId)
                ? Array.Empty<CustomerMatch>()
                : [new CustomerMatch { ProfileId = journey.ProfileId, CustomerId = journey.CustomerId, Phase = journey.Phase, LastSeen = journey.LastSeen }]);
        }
        return Results.Problem(statusCode: 400, title: "Invalid parameter 'emailSha256'", detail: "Name an 'emailSha256' or an 'anonymousId'",
            extensions: new Dictionary<string, object?> { ["parameter"] = "emailSha256" });
    }

    /// <summary><c>GET /api/customers/{id}?timelineLimit=&amp;actionLimit=</c> (viewer): the journey, then the campaign actions.</summary>
    public static async Task<IResult> GetAsync(string id, int? timelineLimit, int? actionLimit, JourneyStore store, ActionStore actions, ActiveRules rules,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct)
    {
        var (timeline, badTimeline) = ApiParameters.Limit("timelineLimit", timelineLimit, 200);
        var (actionsShown, badActions) = ApiParameters.Limit("actionLimit", actionLimit, 200);
        if ((ApiParameters.Id("id", id) ?? badTimeline ?? badActions) is { } problem)
            return problem;
        var journey = await store.GetAsync(id, timeline, ct);
        if (journey is null)
            return Results.Problem(statusCode: 404, title: "Unknown customer", detail: $"No journey for customerId or anonymousId '{id}'");
        // The journey, then the customer's campaign actions, newest trigger first, each with its life.
        var body = JsonSerializer.SerializeToNode(journey, json.Value.SerializerOptions)!.AsObject();
        body["actions"] = JsonSerializer.SerializeToNode(await actions.ForProfileAsync(journey.ProfileId, actionsShown, ct),
            json.Value.SerializerOptions);
        // The phases also in the model the rules run on (see-think-do-care: retention is care), as marketers name them.
        var model = rules.Current.Vocabulary;
        string? NameIn(JsonNode? stored) => Core.Phases.PhaseNames.TryParse((string?)stored, out var phase) ? model.NameOf(phase) : null;
        body["phaseModel"] = model.Name;
        body["phaseName"] = NameIn(body["phase"]);
        foreach (var entry in body["phaseHistory"]?.AsArray() ?? [])
            if (entry is JsonObject change)
                change["name"] = NameIn(change["phase"]);
        return Results.Json(body, json.Value.SerializerOptions);
    }

    /// <summary><c>GET /api/customers/{id}/explain?campaign=</c> (viewer): why this customer did or did not get a campaign.</summary>
    public static async Task<IResult> ExplainAsync(string id, string? campaign, CampaignExplainer explainer, CancellationToken ct)
    {
        if ((ApiParameters.Id("id", id) ?? ApiParameters.Id("campaign", campaign)) is { } problem)
            return problem;
        var explanation = await explainer.ExplainAsync(id, campaign!, ct);
        return explanation is null
            ? Results.Problem(statusCode: 404, title: "Unknown customer", detail: $"No journey for customerId or anonymousId '{id}'")
            : Results.Ok(explanation);
    }

    /// <summary><c>GET /api/customers/{id}/export</c> (admin, audited): everything held about a customer (GDPR right of access).</summary>
    public static async Task<IResult> ExportAsync(string id, CustomerData data, AuditLog audit, HttpContext http, ILoggerFactory loggers, CancellationToken ct)
    {
        if (ApiParameters.Id("id", id) is { } problem)
            return problem;
        var document = await data.ExportAsync(id, ct);
        if (document is null)
            return Results.Problem(statusCode: 404, title: "Unknown customer", detail: $"Nothing is held for customerId or anonymousId '{id}'");
        // Named by profile id (c:…, a:…): a device's id may be another customer's id.
        await AuditApi.RecordAsync(audit, http, loggers, "customers.export", (string?)document["journey"]?["profileId"] ?? id, "exported", ct);
        return Results.Json(document, contentType: "application/json");
    }

    /// <summary><c>DELETE /api/customers/{id}</c> (admin): erasure (GDPR right to be forgotten), Privacy/CustomerData.</summary>
    public static async Task<IResult> EraseAsync(string id, CustomerData data, HttpContext http, CancellationToken ct)
    {
        if (ApiParameters.Id("id", id) is { } problem)
            return problem;
        // Audited in the erasure's transaction, naming the customer by the id's hash: that it happened is kept, not who.
        var report = await data.EraseAsync(id, http.KeyName(), ct);
        return report is null
            ? Results.Problem(statusCode: 404, title: "Unknown customer", detail: $"Nothing is held for customerId or anonymousId '{id}'")
            : Results.Ok(report);
    }
}
