using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Rules;
using SchedulingOptions = CampaignOrchestrator.Infrastructure.Actions.SchedulingOptions;
using CampaignOrchestrator.Infrastructure.Rules;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>Quartz job: the inactivity scan (one node at a time in a cluster).</summary>
[DisallowConcurrentExecution]
internal sealed class InactivityScanJob(TriggerScans scans) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) =>
        await scans.ScanInactivityAsync(cancellationToken);
}
