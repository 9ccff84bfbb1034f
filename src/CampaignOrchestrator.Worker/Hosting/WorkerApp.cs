using CampaignOrchestrator.Worker.Dashboard;
using CampaignOrchestrator.Worker.Api;
using CampaignOrchestrator.Worker.Demo;
using CampaignOrchestrator.Worker.Health;
using CampaignOrchestrator.Worker.Security;
using CampaignOrchestrator.Worker.Telemetry;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Hosting;

/// <summary>Builds the worker host: the same for <c>dotnet run</c>, the tests and the benchmark.</summary>
public static class WorkerApp
{
    /// <summary>
    /// Builds the host from appsettings.json, environment variables, the command line and
    /// <paramref name="overrides"/> (tests), in rising precedence; <paramref name="services"/> may
    /// replace registrations (tests: a fake clock). Returns null, after printing
    /// every configuration error with its key, when the configuration is invalid.
    /// </summary>
    public static WebApplication? Build(string[] args, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args.Where(a => a != "--demo").ToArray(),
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (overrides is not null)
            builder.Configuration.AddInMemoryCollection(overrides);
        // One line per entry; Logging:Format=json for a log collector (one JSON object a line, scopes included).
        if (string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
            builder.Logging.ClearProviders().AddJsonConsole(o => { o.IncludeScopes = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; });
        else
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });

        try
        {
            builder.AddJourneyStore();
            builder.AddCampaigns();
            builder.AddInbound();
            builder.AddShutdown();
            builder.AddApiSecurity();
            builder.AddRateLimits();
            builder.AddOperatorApi();
            builder.AddHealth();
            builder.AddTelemetry();
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
                Console.Error.WriteLine($"Invalid configuration: {failure}");
            return null;
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("configuration", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"Invalid configuration: {ex.Message}");
            return null;
        }
        services?.Invoke(builder.Services);
        if (args.Contains("--demo"))
            builder.Services.AddHostedService<DemoPublisher>();

        var app = builder.Build();
        var http = app.Services.GetRequiredService<IOptions<Api.HttpOptions>>().Value;
        if (http.BehindProxy)
            app.UseForwardedHeaders();
        app.UsePublicListener(http);
        // Every API answer may hold personal data (a journey, an export, a customer's banners): no cache keeps it.
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api"))
                context.Response.OnStarting(() =>
                {
                    if (!context.Response.Headers.ContainsKey("Cache-Control"))
                        context.Response.Headers.CacheControl = "no-store";
                    return Task.CompletedTask;
                });
            return next(context);
        });
        app.UseApiSecurity();
        app.UseRateLimiter();
        app.MapOperatorApi();
        app.MapDashboard();
        app.MapHealth();
        app.MapTelemetry();
        app.MapUnsubscribe();
        return app;
    }

    /// <summary>Binds a section and validates it now, so a bad key fails the start naming the key.</summary>
    internal static T BindValidated<T>(this IHostApplicationBuilder builder, string section, IValidateOptions<T> validator)
        where T : class, new()
    {
        var options = builder.Configuration.GetSection(section).Get<T>() ?? new T();
        var result = validator.Validate(null, options);
        if (result.Failed)
            throw new OptionsValidationException(section, typeof(T), result.Failures);
        builder.Services.AddSingleton(Options.Create(options));
        return options;
    }
}
