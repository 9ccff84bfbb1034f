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
/// The operators' API, served on loopback by default (<c>Http:Urls</c>): its services and its route table
/// (<see cref="MapOperatorApi"/>); the handlers are in a class per resource (<see cref="CustomersApi"/>, <see cref="ActionsApi"/>,
/// <see cref="CampaignsApi"/>, <see cref="RulesApi"/>, <see cref="FunnelApi"/>, <see cref="MetricsApi"/>, <see cref="ErrorsApi"/>,
/// <see cref="AuditApi"/>, <see cref="PlacementsApi"/>).
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
        builder.Services.AddSingleton<Infrastructure.Campaigns.CampaignExplainer>();
        builder.Services.AddSingleton<CustomerData>();
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

    /// <summary>
    /// The route table: each path, the role it needs and its handler, a named method of its resource's class (the role
    /// is checked before the handler runs; a higher role has a lower one's rights, Security/ApiRoles).
    /// </summary>
    public static WebApplication MapOperatorApi(this WebApplication app)
    {
        app.MapOpenApi().RequireAuthorization(ApiRoles.Viewer);
        // Ids in the path as sent, '/' included (Api/PathValues).
        var viewer = app.MapGroup("/api").RequireAuthorization(ApiRoles.Viewer).DecodingPathValues();
        var marketer = app.MapGroup("/api").RequireAuthorization(ApiRoles.Marketer).DecodingPathValues();
        var admin = app.MapGroup("/api").RequireAuthorization(ApiRoles.Admin).DecodingPathValues();

        viewer.MapGet("/customers", CustomersApi.FindAsync);
        viewer.MapGet("/customers/{id}", CustomersApi.GetAsync);
        viewer.MapGet("/customers/{id}/explain", CustomersApi.ExplainAsync);
        admin.MapGet("/customers/{id}/export", CustomersApi.ExportAsync);
        admin.MapDelete("/customers/{id}", CustomersApi.EraseAsync);

        viewer.MapGet("/actions", ActionsApi.ListPendingAsync);
        marketer.MapPost("/actions/{actionId}/cancel", ActionsApi.CancelAsync);

        viewer.MapGet("/rules", CampaignsApi.Rules);
        viewer.MapRulesApi(marketer);
        viewer.MapGet("/campaigns", CampaignsApi.List);
        viewer.MapGet("/campaigns/{id}", CampaignsApi.SummaryAsync);
        viewer.MapGet("/campaigns/{id}/results", CampaignsApi.ResultsAsync);
        viewer.MapGet("/campaigns/{id}/log", CampaignsApi.LogAsync);
        marketer.MapPost("/campaigns/{id}/cancel", CampaignsApi.CancelAsync);

        viewer.MapGet("/funnel", FunnelApi.GetAsync);
        viewer.MapGet("/metrics", MetricsApi.Get);

        admin.MapGet("/errors", ErrorsApi.ListAsync);
        admin.MapPost("/errors/replay", ErrorsApi.ReplayAsync);
        admin.MapDelete("/errors/{id}", ErrorsApi.DeleteAsync);
        admin.MapGet("/audit", AuditApi.ReadAsync);

        app.MapGet("/api/placements/{id}", PlacementsApi.GetAsync)
            .RequireAuthorization(ApiRoles.Placement).RequireRateLimiting(RateLimits.Placements).DecodingPathValues();
        return app;
    }
}
