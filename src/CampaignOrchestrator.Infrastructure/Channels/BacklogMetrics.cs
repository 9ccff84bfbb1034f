using System.Diagnostics.Metrics;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Channels.Email;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// What waits, as gauges on the <c>CampaignOrchestrator</c> meter: pending actions (all workers' on a shared database),
/// the outbox and connector backlogs, SMTP connections sending now, and each channel's circuit breaker
/// (0 closed, 1 open, 2 half-open, 3 isolated). The counts are read from the store every <see cref="Interval"/>, not
/// at each scrape.
/// </summary>
internal sealed class BacklogMetrics : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    readonly Database _database;
    readonly TimeProvider _time;
    readonly ILogger<BacklogMetrics> _logger;
    long _pending = -1, _outbox = -1, _connectors = -1;

    public BacklogMetrics(Database database, EmailChannel email, CircuitStates circuits, IMeterFactory meters, TimeProvider time, ILogger<BacklogMetrics> logger)
    {
        (_database, _time, _logger) = (database, time, logger);
        var meter = meters.Create(InboundMetrics.MeterName);
        meter.CreateObservableGauge("campaign_orchestrator.actions.pending", () => Known(_pending), unit: "{action}",
            description: "Actions scheduled and not yet fired (pending or being delivered)");
        meter.CreateObservableGauge("campaign_orchestrator.outbox.backlog", () => Known(_outbox), unit: "{event}",
            description: "Outbound events written and not yet confirmed by the broker");
        meter.CreateObservableGauge("campaign_orchestrator.connector_outbox.backlog", () => Known(_connectors), unit: "{change}",
            description: "Audience changes waiting for an ad-platform connector");
        meter.CreateObservableGauge("campaign_orchestrator.smtp.connections.in_use", () => email.ConnectionsInUse, unit: "{connection}",
            description: "SMTP connections sending now (of Email:Smtp:PoolSize)");
        meter.CreateObservableGauge("campaign_orchestrator.circuit.state", () => new[]
        {
            new Measurement<int>(State(circuits.Smtp), new KeyValuePair<string, object?>("pipeline", ChannelPipelines.Smtp)),
            new Measurement<int>(State(circuits.Webhook), new KeyValuePair<string, object?>("pipeline", ChannelPipelines.Webhook)),
        }, description: "A channel's circuit breaker: 0 closed, 1 open (deliveries wait), 2 half-open, 3 isolated");
    }

    static IEnumerable<Measurement<long>> Known(long value) => value < 0 ? [] : [new Measurement<long>(value)];

    static int State(CircuitBreakerStateProvider provider) => provider.CircuitState switch
    {
        CircuitState.Open => 1,
        CircuitState.HalfOpen => 2,
        CircuitState.Isolated => 3,
        _ => 0,
    };

    internal async Task SampleAsync(CancellationToken ct)
    {
        await using var connection = await _database.OpenAsync(ct);
        Interlocked.Exchange(ref _pending, await ActionStore.WaitingCountAsync(connection, ct));
        Interlocked.Exchange(ref _outbox, await Outbox.CountAsync(connection, ct));
        Interlocked.Exchange(ref _connectors, await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM connector_outbox", cancellationToken: ct)));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            do
            {
                try
                {
                    await SampleAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.SweepFailed(_logger, ex, nameof(BacklogMetrics), Interval);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
