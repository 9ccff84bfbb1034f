using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Worker.Security;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace CampaignOrchestrator.Worker.Telemetry;

/// <summary>
/// Metrics on the standard stack (OpenTelemetry): the worker's own <c>CampaignOrchestrator</c> meter (journey events,
/// actions by kind and outcome, the firing lag), MassTransit's, Polly's (retries, circuit breakers), ASP.NET Core's and
/// the runtime's; served at <c>GET /metrics</c> in Prometheus text (a viewer key: Prometheus sends it as a bearer token),
/// and pushed over OTLP when <c>Telemetry:Otlp:Endpoint</c> is set.
/// </summary>
internal static class TelemetryRegistration
{
    public const string ServiceName = "campaign-orchestrator";

    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        var otlp = builder.Configuration["Telemetry:Otlp:Endpoint"];
        if (!string.IsNullOrWhiteSpace(otlp) && !Uri.TryCreate(otlp, UriKind.Absolute, out _))
            throw new Microsoft.Extensions.Options.OptionsValidationException("Telemetry", typeof(string),
                [$"Telemetry:Otlp:Endpoint must be an absolute URL such as http://127.0.0.1:4317 (got '{otlp}')"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(InboundMetrics.MeterName, "MassTransit", "Polly")
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (!string.IsNullOrWhiteSpace(otlp))
                    metrics.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
            });
        return builder;
    }

    public static WebApplication MapTelemetry(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(ApiRoles.Viewer);
        return app;
    }
}
