using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Rules;
using SchedulingOptions = CampaignOrchestrator.Infrastructure.Actions.SchedulingOptions;
using CampaignOrchestrator.Infrastructure.Rules;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>Quartz job: one firing of a campaign's cron schedule over its segment.</summary>
[DisallowConcurrentExecution]
internal sealed class CampaignScheduleJob(TriggerScans scans) : IJob
{
    public const string CampaignIdKey = "campaignId";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) =>
        await scans.RunScheduleAsync(context.MergedJobDataMap.GetString(CampaignIdKey)!, context.ScheduledFireTimeUtc ?? context.FireTimeUtc,
            cancellationToken);
}
