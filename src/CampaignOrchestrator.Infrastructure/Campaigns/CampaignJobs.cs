using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Rules;
using SchedulingOptions = CampaignOrchestrator.Infrastructure.Actions.SchedulingOptions;
using CampaignOrchestrator.Infrastructure.Rules;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>
/// Keeps Quartz's jobs in line with the rules in force: the inactivity scan while any campaign has
/// an inactivity trigger, and one cron trigger per schedule campaign (in the rules' default time
/// zone; a firing missed while no worker ran fires once at start). Runs at start and on every reload.
/// </summary>
internal sealed class CampaignJobs(ISchedulerFactory schedulers, ActiveRules rules, IOptions<SchedulingOptions> options, TimeProvider time,
    ILogger<CampaignJobs> logger) : IHostedService
{
    const string Group = "campaigns";
    static readonly JobKey ScanKey = new("inactivity-scan", Group);
    readonly Lock _lock = new();
    Task _syncing = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        rules.Activated += OnActivated;
        await SyncAsync(rules.Current, cancellationToken);
    }

    /// <summary>Stops following reloads and waits for a sync under way (Quartz stops after this).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        rules.Activated -= OnActivated;
        Task syncing;
        lock (_lock)
            syncing = _syncing;
        await syncing.WaitAsync(cancellationToken);
    }

    /// <summary>A reload: the jobs follow it, one sync after the other in the order the versions came (never two at once).</summary>
    void OnActivated(CompiledRules previous, CompiledRules next)
    {
        lock (_lock)
            _syncing = _syncing.ContinueWith(_ => SyncSafelyAsync(next), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Test hook: completes when the syncs started so far are done.</summary>
    internal Task Syncing { get { lock (_lock) return _syncing; } }

    async Task SyncSafelyAsync(CompiledRules next)
    {
        try
        {
            await SyncAsync(next, CancellationToken.None);
        }
        catch (Exception ex)
        {
            Log.JobsSyncFailed(logger, ex.GetType().Name + ": " + ex.Message);
        }
    }

    internal async Task SyncAsync(CompiledRules current, CancellationToken ct)
    {
        var scheduler = await schedulers.GetScheduler(ct);
        if (current.Inactivity.Count > 0)
        {
            var job = JobBuilder.Create<InactivityScanJob>().WithIdentity(ScanKey).StoreDurably().Build();
            var trigger = TriggerBuilder.Create().WithIdentity("inactivity-scan", Group).ForJob(ScanKey).StartNow()
                .WithSimpleSchedule(s => s.WithInterval(options.Value.InactivityScanInterval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
                .Build();
            if (!await scheduler.Exists(ScanKey, ct))
                await scheduler.ScheduleJob(job, new[] { trigger }, ScheduleJobOptions.Replacing, ct);
        }
        else
            await scheduler.DeleteJob(ScanKey, ct);

        var wanted = current.Schedules.ToDictionary(c => new JobKey("schedule:" + c.Id, Group), c => c);
        foreach (var header in (await scheduler.QueryJobs(new JobQuery { Group = GroupMatcher<JobKey>.GroupEquals(Group) }, ct)).Items)
            if (header.Key.Name.StartsWith("schedule:", StringComparison.Ordinal) && !wanted.ContainsKey(header.Key))
                await scheduler.DeleteJob(header.Key, ct);
        var zone = current.Rules.Defaults.TimeZone;
        foreach (var (key, campaign) in wanted)
        {
            var cron = ((ScheduleTrigger)campaign.Trigger).Cron;
            var existing = await scheduler.GetTrigger(new TriggerKey(key.Name, Group), ct) as ICronTrigger;
            if (existing is not null && existing.CronExpressionString == cron && existing.TimeZone.Id == zone.Id)
                continue;
            var job = JobBuilder.Create<CampaignScheduleJob>().WithIdentity(key).UsingJobData(CampaignScheduleJob.CampaignIdKey, campaign.Id)
                .RequestRecovery().StoreDurably().Build();
            var trigger = TriggerBuilder.Create().WithIdentity(key.Name, Group).ForJob(key)
                .WithCronSchedule(cron, s => s.InTimeZone(zone).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)).Build();
            await scheduler.ScheduleJob(job, new[] { trigger }, ScheduleJobOptions.Replacing, ct);
            Log.ScheduleJobPlanned(logger, campaign.Id, cron, zone.Id, trigger.GetFireTimeAfter(time.GetUtcNow()));
        }
    }
}
