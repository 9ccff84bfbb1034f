using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>
/// Finds the customers of triggers that no event carries, in pages: inactivity (<c>inactiveFor</c>,
/// optional <c>inPhase</c>) by reading the <c>seen_hour</c> index from where the previous scan stopped,
/// never the whole table; and a cron schedule's segment at each firing. Run by Quartz jobs
/// (<see cref="InactivityScanJob"/>, <see cref="CampaignScheduleJob"/>); safe to run again: the same
/// period of inactivity or the same firing gives the same actionIds.
/// </summary>
internal sealed class TriggerScans(Database database, CampaignScheduler campaigns, JourneyReader profiles, ActiveRules rules, TimeProvider time,
    ILogger<TriggerScans> logger, CampaignFailures? failures = null)
{
    readonly CampaignScheduler _campaigns = campaigns;
    readonly JourneyReader _profiles = profiles;

    /// <summary>Scans with their parts made over <paramref name="database"/> (the preview's runs, tests; the worker's are injected).</summary>
    public static TriggerScans Create(Database database, ActiveRules rules, TimeProvider time, ILogger<TriggerScans> logger, CampaignFailures? failures = null) =>
        new(database, new CampaignScheduler(database, new Actions.ActionStore(database, logger), logger, failures), new JourneyReader(database), rules, time,
            logger, failures);

    /// <summary>Customers started per transaction.</summary>
    public const int PageSize = 1000;

    /// <summary>
    /// Starts every inactivity campaign for the customers who went quiet since the last scan. Reads the
    /// <c>seen_hour</c> index (the hour of last_seen) from where the previous scan stopped, up to the hour
    /// of the cutoff (now - inactiveFor), and checks each customer's exact last_seen. The mark moves over
    /// whole hours only: the cutoff's own hour is read again next time, for the customers in it who were
    /// not quiet long enough yet (those started already are skipped by <c>quiet_until</c>, the latest last_seen
    /// started, and would be deduplicated by their actionId anyway). Like a mark on last_seen itself, a customer
    /// stored late with a last_seen below what the scan has passed is not found.
    /// </summary>
    /// <param name="fireTime">The Quartz firing this scan is (logged with it: each firing runs once across workers).</param>
    public async Task<int> ScanInactivityAsync(CancellationToken ct, DateTimeOffset? fireTime = null)
    {
        var active = rules.Current;
        var now = time.GetUtcNow();
        var scheduled = 0;
        foreach (var campaign in active.Inactivity)
        {
            using var scope = Log.CampaignScope(logger, campaign.Id);
            try
            {
                scheduled += await ScanInactivityAsync(active, campaign, now, fireTime, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !Storage.TransientErrors.IsTransient(ex))
            {
                // One campaign that cannot be scanned is passed over; the next scan tries it again, the others go on.
                failures?.Record(campaign.Id, "scanning for inactive customers", ex);
                Log.CampaignFailed(logger, campaign.Id, "scanning for inactive customers", ex.GetType().Name + ": " + ex.Message);
            }
        }
        return scheduled;
    }

    /// <summary>One inactivity campaign's scan, from its mark to the cutoff.</summary>
    async Task<int> ScanInactivityAsync(CompiledRules active, Campaign campaign, DateTimeOffset now, DateTimeOffset? fireTime, CancellationToken ct)
    {
        var scheduled = 0;
        var trigger = (InactivityTrigger)campaign.Trigger;
        var until = now - trigger.InactiveFor;
        var untilHour = ProfileRows.SeenHour(until);
        await using var connection = await database.OpenAsync(ct);
        var mark = await connection.QuerySingleOrDefaultAsync<ScanMark>(new CommandDefinition(
            "SELECT scanned_until, after_profile, quiet_until FROM campaign_scans WHERE campaign_id = @id", new { id = campaign.Id }, cancellationToken: ct));
        var (markHour, markAfter) = mark is null ? (DateTimeOffset.UnixEpoch, "") : (mark.ScannedUntil, mark.AfterProfile);
        // The latest last_seen a scan started the campaign for: the cutoff's own hour is read again, and its customers
        // up to there were judged already.
        var quietBefore = mark?.QuietUntil ?? DateTimeOffset.MinValue;
        DateTimeOffset? judgedUntil = mark?.QuietUntil;
        var (from, after) = (markHour, markAfter);
        var found = 0;
        while (true)
        {
            var page = (await connection.QueryAsync<QuietProfile>(new CommandDefinition(
                "SELECT profile_id, last_seen, seen_hour FROM profiles WHERE (seen_hour > @from OR (seen_hour = @from AND profile_id > @after)) " +
                "AND seen_hour <= @untilHour" + (trigger.InPhase is null ? "" : " AND phase = @phase") + " ORDER BY seen_hour, profile_id LIMIT @limit",
                new { from, after, untilHour, phase = trigger.InPhase?.ToName(), limit = PageSize }, cancellationToken: ct))).ToList();
            if (page.Count == 0)
                break;
            var quiet = page.Where(p => p.LastSeen <= until && p.LastSeen > quietBefore).ToList();
            found += quiet.Count;
            if (quiet.Count > 0)
                judgedUntil = Max(judgedUntil, quiet.Max(p => p.LastSeen));
            scheduled += await _campaigns.StartAsync(active, quiet.Select(p => new CampaignStart(campaign, p.ProfileId, new TriggerOccurrence(
                $"inactive:{p.LastSeen.UtcTicks}", $"inactive for {trigger.InactiveFor.TotalDays:0.##} days since {p.LastSeen:O}",
                p.LastSeen + trigger.InactiveFor, null, null))).ToList(), now, ct);
            (from, after) = (page[^1].SeenHour, page[^1].ProfileId);
            if (page.LastOrDefault(p => p.SeenHour < untilHour) is { } done)
                (markHour, markAfter) = (done.SeenHour, done.ProfileId);
            await SaveMarkAsync(connection, campaign.Id, markHour, markAfter, judgedUntil, now, ct);
            if (page.Count < PageSize)
                break;
        }
        if (found > 0)
            Log.InactivityScanned(logger, campaign.Id, fireTime, found, until);
        else
            Log.InactivityScannedNone(logger, campaign.Id, fireTime, until);
        return scheduled;
    }

    /// <summary>
    /// When the next customer the inactivity campaign's scan has not read yet (after its mark, last seen after the
    /// latest it started) becomes inactive for <paramref name="inactiveFor"/>; null: nobody left. A preview's run skips
    /// its virtual clock ahead to then.
    /// </summary>
    public async Task<DateTimeOffset?> NextInactiveAsync(string campaignId, TimeSpan inactiveFor, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var mark = await connection.QuerySingleOrDefaultAsync<ScanMark>(new CommandDefinition(
            "SELECT scanned_until, after_profile, quiet_until FROM campaign_scans WHERE campaign_id = @id", new { id = campaignId }, cancellationToken: ct));
        var next = await connection.ExecuteScalarAsync<object?>(new CommandDefinition(
            "SELECT min(last_seen) FROM profiles WHERE (seen_hour > @hour OR (seen_hour = @hour AND profile_id > @after)) AND last_seen > @quiet",
            new { hour = mark?.ScannedUntil ?? DateTimeOffset.UnixEpoch, after = mark?.AfterProfile ?? "", quiet = mark?.QuietUntil ?? DateTimeOffset.UnixEpoch },
            cancellationToken: ct));
        return next is null or DBNull ? null : DapperConfiguration.ReadTimestamp(next) + inactiveFor;
    }

    /// <summary>Starts a schedule campaign, fired at <paramref name="fireTime"/>, for every customer in its segment.</summary>
    public async Task<int> RunScheduleAsync(string campaignId, DateTimeOffset fireTime, CancellationToken ct)
    {
        using var scope = Log.CampaignScope(logger, campaignId);
        var active = rules.Current;
        if (!active.ById.TryGetValue(campaignId, out var campaign) || campaign.Trigger is not ScheduleTrigger trigger)
            return 0; // removed or changed since the job was planned
        try
        {
            return await RunScheduleAsync(active, campaign, trigger, fireTime, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !Storage.TransientErrors.IsTransient(ex))
        {
            var doing = $"running its schedule fired at {fireTime:O}";
            failures?.Record(campaign.Id, doing, ex);
            Log.CampaignFailed(logger, campaign.Id, doing, ex.GetType().Name + ": " + ex.Message);
            return 0;
        }
    }

    async Task<int> RunScheduleAsync(CompiledRules active, Campaign campaign, ScheduleTrigger trigger, DateTimeOffset fireTime, CancellationToken ct)
    {
        var occurrence = new TriggerOccurrence($"schedule:{fireTime.UtcTicks}", $"schedule '{trigger.Cron}' at {fireTime:O}", fireTime, null, null);
        var (after, matched, scheduled) = ("", 0, 0);
        while (true)
        {
            var page = await _profiles.ReadProfilesAsync(after, PageSize, ct);
            if (page.Count == 0)
                break;
            var members = page.Where(p => ConditionEvaluator.Evaluate(trigger.Segment, new ConditionSubject(p.Traits, null, null, p.Phase, p.OrderCount, p.OrderTotal)))
                .Select(p => new CampaignStart(campaign, p.ProfileId, occurrence)).ToList();
            matched += members.Count;
            scheduled += await _campaigns.StartAsync(active, members, time.GetUtcNow(), ct);
            after = page[^1].ProfileId;
            if (page.Count < PageSize)
                break;
        }
        Log.ScheduleRan(logger, campaign.Id, fireTime, matched, scheduled);
        return scheduled;
    }

    static DateTimeOffset Max(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;

    async Task SaveMarkAsync(System.Data.Common.DbConnection connection, string campaignId, DateTimeOffset hour, string after, DateTimeOffset? quietUntil,
        DateTimeOffset now, CancellationToken ct)
    {
        using var turn = await database.WriteTurnAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO campaign_scans (campaign_id, scanned_until, after_profile, quiet_until, updated_at) VALUES (@campaignId, @hour, @after, @quietUntil, @now) " +
            "ON CONFLICT (campaign_id) DO UPDATE SET scanned_until = excluded.scanned_until, after_profile = excluded.after_profile, " +
            "quiet_until = excluded.quiet_until, updated_at = excluded.updated_at",
            new { campaignId, hour, after, quietUntil, now }, cancellationToken: ct));
    }

    sealed class ScanMark
    {
        public DateTimeOffset ScannedUntil { get; set; }
        public string AfterProfile { get; set; } = "";
        public DateTimeOffset? QuietUntil { get; set; }
    }

    sealed class QuietProfile
    {
        public string ProfileId { get; set; } = "";
        public DateTimeOffset LastSeen { get; set; }
        public DateTimeOffset SeenHour { get; set; }
    }
}
