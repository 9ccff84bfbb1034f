using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Worker.Security;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
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

    /// <summary>The share of events traced unless <c>Telemetry:TraceSampleRatio</c> says otherwise (docs/benchmarks.md: all of
    /// them cost about 8 % of the inbound rate and 120 MB; a tenth stays inside the noise).</summary>
    public const double DefaultTraceSampleRatio = 0.1;

    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        var otlp = builder.Configuration["Telemetry:Otlp:Endpoint"];
        if (!string.IsNullOrWhiteSpace(otlp) && !Uri.TryCreate(otlp, UriKind.Absolute, out _))
            throw new Microsoft.Extensions.Options.OptionsValidationException("Telemetry", typeof(string),
                [$"Telemetry:Otlp:Endpoint must be an absolute URL such as http://127.0.0.1:4317 (got '{otlp}')"]);
        var metricsOn = Switch(builder.Configuration, "Telemetry:Metrics", "on") == "on";
        // grpc (port 4317) by default; http/protobuf (port 4318) posts to <endpoint>/v1/traces and /v1/metrics.
        var httpProtobuf = (builder.Configuration["Telemetry:Otlp:Protocol"] ?? "grpc").Trim().ToLowerInvariant() switch
        {
            "grpc" => false,
            "http/protobuf" => true,
            var other => throw new Microsoft.Extensions.Options.OptionsValidationException("Telemetry", typeof(string),
                [$"Telemetry:Otlp:Protocol must be grpc or http/protobuf (got '{other}')"]),
        };
        void Otlp(OpenTelemetry.Exporter.OtlpExporterOptions o, string signal)
        {
            o.Protocol = httpProtobuf ? OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf : OpenTelemetry.Exporter.OtlpExportProtocol.Grpc;
            o.Endpoint = new Uri(httpProtobuf ? otlp!.TrimEnd('/') + "/v1/" + signal : otlp!);
        }
        var traces = Switch(builder.Configuration, "Telemetry:Traces", "auto");
        var otel = builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService(ServiceName));
        if (metricsOn)
            otel.WithMetrics(metrics =>
            {
                // ASP.NET Core's request and connection meters, not all of its own: the memory pool's (a record per buffer
                // rented), routing's, authentication's and authorization's meters cost the banner read several µs each
                // for nothing the request duration by route and status does not show (docs/benchmarks.md, issue 16).
                metrics.AddMeter(InboundMetrics.MeterName, "MassTransit", "Polly")
                    .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics")
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (!string.IsNullOrWhiteSpace(otlp))
                    metrics.AddOtlpExporter(o => Otlp(o, "metrics"));
            });
        // Traces cost per event, so by default only when they go somewhere (an OTLP endpoint); "on" records them anyway.
        // Sampled: a share of the events' traces (the trace id decides, so a trace is whole or absent), and every trace the
        // webshop sent sampled in its traceparent.
        var ratioText = builder.Configuration["Telemetry:TraceSampleRatio"];
        var ratio = DefaultTraceSampleRatio;
        if (ratioText is not null && (!double.TryParse(ratioText, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out ratio) || ratio is < 0 or > 1))
            throw new Microsoft.Extensions.Options.OptionsValidationException("Telemetry", typeof(string),
                [$"Telemetry:TraceSampleRatio must be a number from 0 to 1, e.g. 0.1 (got '{ratioText}')"]);
        if (traces == "on" || (traces == "auto" && !string.IsNullOrWhiteSpace(otlp)))
            otel.WithTracing(tracing =>
            {
                tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)));
                tracing.AddSource(Traces.SourceName, "MassTransit").AddAspNetCoreInstrumentation(o => o.Filter = http => http.Request.Path != "/metrics");
                if (!string.IsNullOrWhiteSpace(otlp))
                    tracing.AddOtlpExporter(o => Otlp(o, "traces"));
            });
        builder.Services.AddSingleton(new TelemetrySwitches(metricsOn));
        return builder;
    }

    static string Switch(IConfiguration configuration, string key, string @default)
    {
        var value = (configuration[key] ?? @default).Trim().ToLowerInvariant();
        string[] allowed = key.EndsWith("Traces", StringComparison.Ordinal) ? ["on", "off", "auto"] : ["on", "off"];
        return allowed.Contains(value)
            ? value
            : throw new Microsoft.Extensions.Options.OptionsValidationException("Telemetry", typeof(string), [$"{key} must be one of {string.Join(", ", allowed)} (got '{configuration[key]}')"]);
    }

    public static WebApplication MapTelemetry(this WebApplication app)
    {
        if (app.Services.GetRequiredService<TelemetrySwitches>().Metrics)
            app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(ApiRoles.Viewer);
        return app;
    }

    sealed record TelemetrySwitches(bool Metrics);
}
