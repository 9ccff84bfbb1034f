using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Privacy;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Worker.Hosting;
using CampaignOrchestrator.Worker.Security;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Api;

/// <summary>
/// The operators' read API, served on loopback by default (<c>Http:Urls</c>):
/// <c>GET /api/customers/{id}</c> (journey and campaign actions), <c>GET /api/rules</c>, <c>GET /api/campaigns</c>,
/// <c>GET /api/campaigns/{id}</c> (funnel per step), <c>GET /api/campaigns/{id}/log</c>, <c>GET /api/metrics</c> and <c>GET /health</c>.
/// </summary>
internal static class OperatorApi
{
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary>The largest request body taken (<c>Http:MaxRequestBodyBytes</c>): 1 MiB.</summary>
    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    public static IHostApplicationBuilder AddOperatorApi(this WebApplicationBuilder builder)
    {
        var http = builder.BindValidated(HttpOptions.SectionName, new HttpOptionsValidator());
        builder.WebHost.UseUrls(string.Join(';', new[] { http.Urls, http.PublicUrls }.Where(u => !string.IsNullOrWhiteSpace(u))));
        // No request body needs more (a replay's ids, later a rules file): a larger one is refused with 413 before it is read.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = http.MaxRequestBodyBytes);
        if (http.BehindProxy)
            builder.Services.Configure<Microsoft.AspNetCore.Builder.ForwardedHeadersOptions>(o =>
                o.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        });
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<CampaignResults>();
        builder.Services.AddSingleton<Infrastructure.Campaigns.CampaignExplainer>();
        builder.Services.AddSingleton<CustomerData>();
        builder.Services.AddSingleton<Infrastructure.Campaigns.RulesHistory>();
        builder.BindValidated(Preview.PreviewOptions.SectionName, new Preview.PreviewOptionsValidator());
        builder.Services.AddSingleton<Preview.RulesPreview>();
        builder.Services.AddSingleton<Preview.PreviewJobs>();
        // The API described at /openapi/v1.json; each operation says the role it needs (tag and description).
        builder.Services.AddOpenApi(o => o.AddOperationTransformer((operation, context, _) =>
        {
            var role = context.Description.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>()
                .Select(a => a.Policy).LastOrDefault(p => p is not null);
            if (role is not null)
            {
                operation.Tags = new HashSet<Microsoft.OpenApi.OpenApiTagReference> { new(role) };
                operation.Description = $"Role: {role} (or higher). " + operation.Description;
            }
            return Task.CompletedTask;
        }));

        return builder;
    }

    public static WebApplication MapOperatorApi(this WebApplication app)
    {
        // Every endpoint under /api names the role it needs (Security/ApiRoles); a higher role has a lower one's rights.
        app.MapOpenApi().RequireAuthorization(ApiRoles.Viewer);
        // Ids in the path as sent, '/' included (Api/PathValues).
        var viewer = app.MapGroup("/api").RequireAuthorization(ApiRoles.Viewer).DecodingPathValues();
        var marketer = app.MapGroup("/api").RequireAuthorization(ApiRoles.Marketer).DecodingPathValues();
        var admin = app.MapGroup("/api").RequireAuthorization(ApiRoles.Admin).DecodingPathValues();
        viewer.MapGet("/actions", async (string? campaign, string? customer, long? after, int? limit, JourneyStore store, ActionStore actions,
            CancellationToken ct) =>
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
        });
        marketer.MapPost("/actions/{actionId}/cancel", async (string actionId, ActionStore actions, AuditLog audit, TimeProvider time, HttpContext http,
            ILoggerFactory loggers, CancellationToken ct) =>
        {
            if (ApiParameters.Id("actionId", actionId) is { } problem)
                return problem;
            var cancelled = await actions.CancelPendingAsync(actionId, null, "operator:" + http.KeyName(), time.GetUtcNow(), ct);
            await RecordAsync(audit, http, loggers, "actions.cancel", actionId, $"{cancelled} cancelled", ct);
            return cancelled == 0
                ? Results.Problem(statusCode: 404, title: "No pending action", detail: "No action with that id is pending (it fired, was cancelled, or is being delivered)")
                : Results.Ok(new { cancelled });
        });
        marketer.MapPost("/campaigns/{id}/cancel", async (string id, ActionStore actions, AuditLog audit, TimeProvider time, HttpContext http,
            ILoggerFactory loggers, CancellationToken ct) =>
        {
            if (ApiParameters.Id("id", id) is { } problem)
                return problem;
            var cancelled = await actions.CancelPendingAsync(null, id, "operator:" + http.KeyName(), time.GetUtcNow(), ct);
            await RecordAsync(audit, http, loggers, "campaign.cancel", id, $"{cancelled} cancelled", ct);
            return Results.Ok(new { cancelled });
        });
        // Find a customer without their address in the URL (or any log): by the hash of the normalised address
        // (Core/Journeys/EmailHash: SHA-256 of the trimmed, lower-case address, hex), or by a device's anonymousId.
        viewer.MapGet("/customers", async (string? emailSha256, string? anonymousId, int? limit, JourneyStore store, CancellationToken ct) =>
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
        });
        viewer.MapGet("/customers/{id}", async (string id, int? timelineLimit, int? actionLimit, JourneyStore store, ActionStore actions, ActiveRules rules,
            IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct) =>
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
        });
        // Why this customer did or did not get a campaign (Infrastructure/Campaigns/CampaignExplainer.cs).
        viewer.MapGet("/customers/{id}/explain", async (string id, string? campaign, Infrastructure.Campaigns.CampaignExplainer explainer, CancellationToken ct) =>
        {
            if ((ApiParameters.Id("id", id) ?? ApiParameters.Id("campaign", campaign)) is { } problem)
                return problem;
            var explanation = await explainer.ExplainAsync(id, campaign!, ct);
            return explanation is null
                ? Results.Problem(statusCode: 404, title: "Unknown customer", detail: $"No journey for customerId or anonymousId '{id}'")
                : Results.Ok(explanation);
        });
        // GDPR: everything held about a customer (right of access) and erasure (right to be forgotten): Privacy/CustomerData.
        admin.MapGet("/customers/{id}/export", async (string id, CustomerData data, AuditLog audit, HttpContext http, ILoggerFactory loggers,
            CancellationToken ct) =>
        {
            if (ApiParameters.Id("id", id) is { } problem)
                return problem;
            var document = await data.ExportAsync(id, ct);
            if (document is null)
                return Results.Problem(statusCode: 404, title: "Unknown customer", detail: $"Nothing is held for customerId or anonymousId '{id}'");
            // Named by profile id (c:…, a:…): a device's id may be another customer's id.
            await RecordAsync(audit, http, loggers, "customers.export", (string?)document["journey"]?["profileId"] ?? id, "exported", ct);
            return Results.Json(document, contentType: "application/json");
        });
        admin.MapDelete("/customers/{id}", async (string id, CustomerData data, HttpContext http, CancellationToken ct) =>
        {
            if (ApiParameters.Id("id", id) is { } problem)
                return problem;
            // Audited in the erasure's transaction, naming the customer by the id's hash: that it happened is kept, not who.
            var report = await data.EraseAsync(id, http.KeyName(), ct);
            return report is null
                ? Results.Problem(statusCode: 404, title: "Unknown customer", detail: $"Nothing is held for customerId or anonymousId '{id}'")
                : Results.Ok(report);
        });
        // The webshop's read of banners when it renders a page: its own read-only key, and always an answer (a slot
        // nobody assigned shows its default creative, an unknown customer too).
        app.MapGet("/api/placements/{id}", async (string id, string? slot, PlacementQueries placements, CancellationToken ct) =>
        {
            if ((ApiParameters.Id("id", id) ?? (slot is null ? null : ApiParameters.Id("slot", slot))) is { } problem)
                return problem;
            var found = await placements.GetAsync(id, string.IsNullOrWhiteSpace(slot) ? null : slot, ct);
            return slot is null ? Results.Ok(new { id, placements = found }) : Results.Ok(found.Single());
        }).RequireAuthorization(ApiRoles.Placement).RequireRateLimiting(RateLimits.Placements).DecodingPathValues();
        viewer.MapGet("/rules", (ActiveRules rules) => Results.Ok(rules.Status));
        viewer.MapRulesApi(marketer);
        viewer.MapGet("/campaigns", (ActiveRules rules) =>
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
        });
        viewer.MapGet("/campaigns/{id}", async (string id, ActionStore campaigns, CancellationToken ct) =>
            ApiParameters.Id("id", id) ?? Results.Ok(await campaigns.SummaryAsync(id, ct)));
        // Results over a period with the lift over the holdout (Infrastructure/Actions/CampaignResults.cs).
        viewer.MapGet("/funnel", async (string? model, string? from, string? to, string? segment, string? device, ActiveRules rules, FunnelCounters funnel,
            IOptions<FunnelOptions> options, TimeProvider time, CancellationToken ct) =>
            await ReadFunnelAsync(model, from, to, segment, device, rules, funnel, options.Value, time, ct) is var (view, problem) && problem is null
                ? Results.Ok(view) : problem);
        viewer.MapGet("/campaigns/{id}/results", async (string id, string? from, string? to, string? segment, ActiveRules rules, CampaignResults results,
            TimeProvider time, CancellationToken ct) =>
        {
            var segments = rules.Current.Rules.Segments;
            if (segment is not null && !segments.ContainsKey(segment))
                return segments.Count == 0
                    ? Results.Problem(statusCode: 400, title: "Invalid parameter 'segment'", detail: $"'segment' names a segment, and the rules in force declare none (segments: in a rules file)",
                        extensions: new Dictionary<string, object?> { ["parameter"] = "segment" })
                    : ApiParameters.OneOf("segment", segment, segments.Keys.Order(StringComparer.Ordinal).ToList());
            if (ApiParameters.Id("id", id) is { } badId)
                return badId;
            var (start, end, badPeriod) = ApiParameters.Period(from, to, time.GetUtcNow());
            if (badPeriod is not null)
                return badPeriod;
            // The goal the rules in force give the campaign; a campaign no longer in the rules is measured by the default.
            var goal = rules.Current.Rules.Campaigns.FirstOrDefault(c => c.Id == id)?.Goal ?? Core.Rules.Goal.Default;
            return Results.Ok(await results.ReadAsync(id, goal, start, end, ct, segment is null ? null : segments[segment]));
        });
        viewer.MapGet("/campaigns/{id}/log", async (string id, string? outcome, long? after, int? limit, ActionStore campaigns, CancellationToken ct) =>
        {
            var (from, badAfter) = ApiParameters.After("after", after);
            var (page, badLimit) = ApiParameters.Limit("limit", limit, 100);
            return ApiParameters.Id("id", id) ?? ApiParameters.OneOf("outcome", outcome, LogOutcomes) ?? badAfter ?? badLimit
                ?? Results.Ok(await campaigns.LogAsync(id, outcome, from, page, ct));
        });
        viewer.MapGet("/metrics", (InboundMetrics metrics, ActionMetrics actions) =>
        {
            var (stored, duplicates, rejected) = metrics.Totals;
            var (due, delivered, failed, suppressed, deferred) = actions.Totals;
            var lag = actions.Lag();
            return Results.Ok(new
            {
                journeyEvents = new { stored, duplicates, rejected },
                actions = new
                {
                    due, delivered, failed, suppressed, deferred,
                    firingLagMs = lag is { } l ? new { p50 = l.P50, p99 = l.P99, max = l.Max } : null,
                },
                process = new
                {
                    workingSetBytes = Environment.WorkingSet,
                    gcHeapBytes = GC.GetGCMemoryInfo().HeapSizeBytes,
                    gcCommittedBytes = GC.GetGCMemoryInfo().TotalCommittedBytes,
                    gcCollections = new { gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2) },
                    gcPauseMs = (long)GC.GetTotalPauseDuration().TotalMilliseconds,
                    allocatedBytes = GC.GetTotalAllocatedBytes(),
                    jitCompilationMs = (long)System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds,
                    cpuMs = (long)Environment.CpuUsage.TotalTime.TotalMilliseconds,
                },
            });
        });
        admin.MapGet("/errors", async (int? limit, ErrorQueue errors, IOptions<BusOptions> bus, CancellationToken ct) =>
        {
            var (page, badLimit) = ApiParameters.Limit("limit", limit, 50);
            return badLimit ?? (bus.Value.Transport != BusTransport.RabbitMq
                ? Results.Problem(statusCode: 501, title: "No error queue", detail: "The in-memory transport keeps no error queue")
                : Results.Ok(new { queue = errors.ErrorQueueName, messages = await errors.ListAsync(page, ct) }));
        });
        admin.MapPost("/errors/replay", async (ReplayRequest? request, ErrorQueue errors, IOptions<BusOptions> bus, AuditLog audit, HttpContext http,
            ILoggerFactory loggers, CancellationToken ct) =>
        {
            if (bus.Value.Transport != BusTransport.RabbitMq)
                return Results.Problem(statusCode: 501, title: "No error queue", detail: "The in-memory transport keeps no error queue");
            if (request?.Ids is null && request?.All != true)
                return Results.Problem(statusCode: 400, title: "Nothing chosen", detail: "Send {\"ids\": [...]} with ids from GET /api/errors, or {\"all\": true}");
            if (request.Ids is { } chosen && (chosen.Length > 10_000 || chosen.Select(i => ApiParameters.Id("ids", i)).FirstOrDefault(p => p is not null) is not null))
                return Results.Problem(statusCode: 400, title: "Invalid parameter 'ids'", detail: "'ids' must be at most 10000 ids of 1-128 characters each");
            var ids = request.All == true ? null : request.Ids!.ToHashSet(StringComparer.Ordinal);
            var moved = await errors.ReplayAsync(ids, Math.Clamp(request.Limit ?? 10_000, 1, 1_000_000), ct);
            var target = request.All == true ? "all" : string.Join(",", request.Ids!.Take(20)) + (request.Ids!.Length > 20 ? $" (+{request.Ids.Length - 20})" : "");
            await RecordAsync(audit, http, loggers, "errors.replay", target, $"{moved} replayed", ct);
            return Results.Ok(new { replayed = moved });
        });
        admin.MapDelete("/errors/{id}", async (string id, ErrorQueue errors, IOptions<BusOptions> bus, AuditLog audit, HttpContext http,
            ILoggerFactory loggers, CancellationToken ct) =>
        {
            if (ApiParameters.Id("id", id) is { } problem)
                return problem;
            if (bus.Value.Transport != BusTransport.RabbitMq)
                return Results.Problem(statusCode: 501, title: "No error queue", detail: "The in-memory transport keeps no error queue");
            var deleted = await errors.DeleteAsync(new HashSet<string>(StringComparer.Ordinal) { id }, ct);
            await RecordAsync(audit, http, loggers, "errors.delete", id, $"{deleted} deleted", ct);
            return deleted == 0
                ? Results.Problem(statusCode: 404, title: "No such message", detail: "No message with that id waits in the error queue")
                : Results.Ok(new { deleted });
        });
        admin.MapGet("/audit", async (long? after, int? limit, AuditLog audit, CancellationToken ct) =>
        {
            var (from, badAfter) = ApiParameters.After("after", after);
            var (page, badLimit) = ApiParameters.Limit("limit", limit, 100);
            return badAfter ?? badLimit ?? Results.Ok(await audit.ReadAsync(from, page, ct));
        });

        return app;
    }

    /// <summary>An operator action: into the audit log with the key's name, and the log.</summary>
    static async Task RecordAsync(AuditLog audit, HttpContext http, ILoggerFactory loggers, string action, string? target, string detail, CancellationToken ct)
    {
        await audit.RecordAsync(http.KeyName(), action, target, detail, ct);
        Log.OperatorAction(loggers.CreateLogger("CampaignOrchestrator.Worker.Api.Audit"), http.KeyName(), action, target, detail);
    }

    /// <summary>
    /// <c>GET /api/funnel</c>'s parameters checked (a bad model, device, period or segment is a 400 naming it) and the funnel
    /// read; the dashboard's chart takes the same.
    /// </summary>
    internal static async Task<(FunnelView? View, IResult? Problem)> ReadFunnelAsync(string? model, string? from, string? to, string? segment, string? device,
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

    static readonly string[] LogOutcomes =
        [ActionStatus.Delivered, ActionStatus.Failed, ActionStatus.Suppressed, ActionStatus.Deferred, ActionStatus.Cancelled];

    /// <summary>Body of <c>POST /api/errors/replay</c>: the ids to move back, or all (up to limit).</summary>
    internal sealed record ReplayRequest(string[]? Ids, bool? All, int? Limit);
}
