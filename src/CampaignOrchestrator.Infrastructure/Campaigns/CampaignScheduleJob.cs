using SchedulingOptions = CampaignOrchestrator.Infrastructure.Actions.SchedulingOptions;
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
