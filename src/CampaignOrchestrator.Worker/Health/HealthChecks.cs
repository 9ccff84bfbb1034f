using System.Net.Sockets;
using System.Text;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Channels.Email;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Worker.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Health;

/// <summary>
/// <c>/health/live</c>: the process answers (no check). <c>/health/ready</c>: RabbitMQ (MassTransit's bus check), the
/// database, the SMTP server, the rules in force, and the dispatcher (polling, and firing within
/// <see cref="HealthOptions.MaxFiringLag"/>); 503 when one fails. <c>/health</c> (kept for scripts) checks the bus and the
/// database only. None needs a key; none says more than healthy or not and why.
/// </summary>
internal static class HealthChecks
{
    public static IHostApplicationBuilder AddHealth(this IHostApplicationBuilder builder)
    {
        builder.BindValidated(HealthOptions.SectionName, new HealthOptionsValidator());
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseCheck>("database")
            .AddCheck<SmtpCheck>("smtp")
            .AddCheck<RulesCheck>("rules")
            .AddCheck<DispatcherCheck>("dispatcher")
            .AddCheck<BusLimitsCheck>("bus-limits");
        return builder;
    }

    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health", new HealthCheckOptions
        {
            Predicate = c => c.Name == "database" || c.Tags.Contains("masstransit"), ResponseWriter = WriteAsync,
        }).AllowAnonymous();
        return app;
    }

    static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description ?? e.Value.Exception?.Message }),
        });
    }

    sealed class DatabaseCheck(JourneyStore store, Database database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                await store.PingAsync(timeout.Token);
                return HealthCheckResult.Healthy($"{database.Provider} reachable");
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"{database.Provider} unreachable: {ex.Message}");
            }
        }
    }

    /// <summary>The SMTP server accepts a connection and greets (220) within 3 s.</summary>
    sealed class SmtpCheck(IOptions<EmailOptions> options) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var (host, port) = (options.Value.Smtp.Host, options.Value.Smtp.Port);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(host, port, timeout.Token);
                var buffer = new byte[512];
                var read = await tcp.GetStream().ReadAsync(buffer, timeout.Token);
                var greeting = Encoding.ASCII.GetString(buffer, 0, read);
                return greeting.StartsWith("220", StringComparison.Ordinal)
                    ? HealthCheckResult.Healthy($"SMTP {host}:{port} reachable")
                    : HealthCheckResult.Unhealthy($"SMTP {host}:{port} answered '{greeting.Split('\n')[0].Trim()}', not 220");
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"SMTP {host}:{port} unreachable: {(ex is OperationCanceledException ? "no answer in 3 s" : ex.Message)}");
            }
        }
    }

    /// <summary>The rules in force; degraded (still 200) while a campaign failed where it is judged and was passed over.</summary>
    sealed class RulesCheck(ActiveRules rules, CampaignFailures failures) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var inForce = $"rules version {rules.Current.Version} in force, {rules.Current.Campaigns.Count} campaign(s)";
            var failing = failures.Current();
            return Task.FromResult(failing.Count == 0
                ? HealthCheckResult.Healthy(inForce)
                : HealthCheckResult.Degraded(inForce + "; failing: " + string.Join("; ", failing.Take(5).Select(f =>
                    $"campaign {f.CampaignId} failed {f.Count} time(s), last at {f.At:O} while {f.Doing}: {f.Reason}"))
                    + (failing.Count > 5 ? $"; and {failing.Count - 5} more" : "")));
        }
    }

    /// <summary>Whether RabbitMQ refuses large messages before the worker must buffer them (degraded when it does not).</summary>
    sealed class BusLimitsCheck(Infrastructure.Messaging.BrokerMessageLimit limit) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(limit.Refuses == false ? HealthCheckResult.Degraded(limit.Detail) : HealthCheckResult.Healthy(limit.Detail ?? "not checked yet"));
    }

    sealed class DispatcherCheck(ActionMetrics metrics, TimeProvider time, IOptions<HealthOptions> options) : IHealthCheck
    {
        readonly DateTimeOffset _started = time.GetUtcNow();

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var now = time.GetUtcNow();
            var o = options.Value;
            if (metrics.PollFailing is { } failing)
                return Task.FromResult(HealthCheckResult.Unhealthy($"the dispatcher's polls fail (last at {failing.At:O}): {failing.Reason}"));
            var result = metrics.LastPoll switch
            {
                null when now - _started < o.DispatcherStalledAfter => HealthCheckResult.Healthy("starting"),
                null => HealthCheckResult.Unhealthy($"the dispatcher has not polled since start ({now - _started:g} ago)"),
                var (at, _) when now - at > o.DispatcherStalledAfter => HealthCheckResult.Unhealthy($"the dispatcher last polled {now - at:g} ago"),
                var (_, lag) when lag > o.MaxFiringLag => HealthCheckResult.Unhealthy($"actions fire {lag:g} late (more than {o.MaxFiringLag:g})"),
                var (_, lag) => HealthCheckResult.Healthy($"polling; last poll's latest action {lag.TotalMilliseconds:0} ms late"),
            };
            return Task.FromResult(result);
        }
    }
}
