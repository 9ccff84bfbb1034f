using SchedulingOptions = CampaignOrchestrator.Infrastructure.Actions.SchedulingOptions;
using Quartz;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>Quartz job: the inactivity scan (one node at a time in a cluster).</summary>
[DisallowConcurrentExecution]
internal sealed class InactivityScanJob(TriggerScans scans) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) =>
        await scans.ScanInactivityAsync(cancellationToken, context.ScheduledFireTimeUtc);
}
