using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Journeys;

/// <summary>Runs <see cref="FunnelCounters.RefreshAsync"/> every <see cref="FunnelOptions.RefreshInterval"/> (when enabled).</summary>
internal sealed class FunnelJob(FunnelCounters counters, IOptions<FunnelOptions> options, TimeProvider time, ILogger<FunnelJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
            return;
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        do
        {
            try
            {
                await counters.RefreshAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.FunnelCountFailed(logger, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
