using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure;

/// <summary>
/// Source-generated log messages of the infrastructure. EventIds by stage: 1xxx inbound, 2xxx journey,
/// 3xxx campaigns and the dispatcher, 4xxx rules, 5xxx channels, 6xxx storage, 7xxx outbound events.
/// Never payloads, traits, email addresses or secrets.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Warning, "Journey event {JourneyEventId} rejected to the error queue: {Reason}")]
    public static partial void EventRejected(ILogger logger, string? journeyEventId, string reason);

    [LoggerMessage(1002, LogLevel.Warning, "Message {MessageId} could not be read and went to the error queue: {Reason}")]
    public static partial void MessageUnreadable(ILogger logger, string? messageId, string reason);

    [LoggerMessage(1004, LogLevel.Error, "Journey event {JourneyEventId} went to the error queue after its retries ran out: {ExceptionType}: {Reason}")]
    public static partial void EventFailed(ILogger logger, string? journeyEventId, string exceptionType, string reason);

    [LoggerMessage(1005, LogLevel.Warning, "RabbitMQ takes messages over {KiB} KiB (no max_message_size): the worker reads such a message whole before it can refuse it. Set max_message_size = 524288 in rabbitmq.conf")]
    public static partial void BrokerTakesLargeMessages(ILogger logger, int kiB);

    [LoggerMessage(1003, LogLevel.Information, "Consuming journey events from exchange {Exchange} on queue {Queue} (prefetch {Prefetch}, concurrency {Concurrency})")]
    public static partial void InboundConfigured(ILogger logger, string exchange, string queue, int prefetch, int concurrency);

    [LoggerMessage(2001, LogLevel.Debug, "Journey event {JourneyEventId} for {CustomerId} stored")]
    public static partial void EventStored(ILogger logger, string journeyEventId, string? customerId);

    [LoggerMessage(2002, LogLevel.Debug, "Journey event {JourneyEventId} seen before; nothing changed")]
    public static partial void DuplicateEvent(ILogger logger, string journeyEventId);

    [LoggerMessage(2003, LogLevel.Information, "Device {AnonymousId} linked to customer {CustomerId} by event {JourneyEventId}")]
    public static partial void DeviceLinked(ILogger logger, string anonymousId, string customerId, string journeyEventId);

    [LoggerMessage(2004, LogLevel.Warning, "A batch of {Count} journey events failed ({Reason}); retrying each on its own")]
    public static partial void BatchFailed(ILogger logger, int count, string reason);

    [LoggerMessage(2005, LogLevel.Debug, "Wrote a batch of {Count} journey events in {Milliseconds:F1} ms")]
    public static partial void BatchWritten(ILogger logger, int count, double milliseconds);

    [LoggerMessage(2006, LogLevel.Warning, "The journey store failed transiently ({Reason}); retry {Attempt} of a batch of {Count} events in {Delay}")]
    public static partial void StoreRetry(ILogger logger, string reason, int attempt, int count, TimeSpan delay);

    [LoggerMessage(3001, LogLevel.Debug, "Campaign {CampaignId} not started for {CustomerId} by {TriggerId}: {Reason}")]
    public static partial void CampaignNotStarted(ILogger logger, string campaignId, string? customerId, string triggerId, string reason);

    [LoggerMessage(3018, LogLevel.Error, "Campaign {CampaignId} failed while {Doing} and was passed over (the other campaigns go on): {Reason}")]
    public static partial void CampaignFailed(ILogger logger, string campaignId, string doing, string reason);

    [LoggerMessage(3002, LogLevel.Debug, "Campaign {CampaignId} started for {CustomerId} by {TriggerId}: {Steps} step(s) scheduled (exited at once: {Exited})")]
    public static partial void CampaignStarted(ILogger logger, string campaignId, string? customerId, string triggerId, int steps, bool exited);

    [LoggerMessage(3003, LogLevel.Debug, "Action {ActionId} of campaign {CampaignId} cancelled by event {JourneyEventId}")]
    public static partial void ActionCancelled(ILogger logger, string actionId, string campaignId, string? journeyEventId);

    [LoggerMessage(3004, LogLevel.Warning, "Firing due actions failed ({Reason}); trying again")]
    public static partial void DispatchFailed(ILogger logger, string reason);

    [LoggerMessage(3006, LogLevel.Warning, "Action {ActionId}: its claim expired and another worker took it over before it was recorded")]
    public static partial void ClaimLost(ILogger logger, string actionId);

    [LoggerMessage(3014, LogLevel.Warning, "Action {ActionId}: its send was given up at the shutdown timeout; it is pending again (sent again, it carries the same Message-ID)")]
    public static partial void SendGivenUp(ILogger logger, string actionId);

    [LoggerMessage(3016, LogLevel.Error, "This worker's clock is {SkewMs:F0} ms off the database's (more than Scheduling:MaxClockSkew): it fires no due action until they agree; the other workers go on")]
    public static partial void ClockSkewed(ILogger logger, double skewMs);

    [LoggerMessage(3017, LogLevel.Information, "This worker's clock agrees with the database's again ({SkewMs:F0} ms): firing resumes")]
    public static partial void ClockAgrees(ILogger logger, double skewMs);

    [LoggerMessage(3015, LogLevel.Warning, "Recording fired actions failed for a passing reason; attempt {Attempt} follows: {Reason}")]
    public static partial void FinishRetried(ILogger logger, int attempt, string reason);

    [LoggerMessage(3007, LogLevel.Debug, "Fired {Count} due action(s), {Delivered} delivered; claim {ClaimMs:F1} ms (write turn waited {ClaimWaitMs:F1}), fire {FireMs:F1} ms, finish {FinishMs:F1} ms (write turn waited {FinishWaitMs:F1})")]
    public static partial void ActionsFired(ILogger logger, int count, int delivered, double claimMs, double claimWaitMs, double fireMs, double finishMs, double finishWaitMs);

    [LoggerMessage(3008, LogLevel.Trace, "Action {ActionId} of campaign {CampaignId} for {CustomerId} ({Kind}): delivered {Delivered}, {Detail}")]
    public static partial void ActionDelivered(ILogger logger, string actionId, string campaignId, string? customerId, string kind, bool delivered, string? detail);

    [LoggerMessage(3009, LogLevel.Information, "Inactivity scan of campaign {CampaignId} (fired for {FireTime:O}): {Found} customer(s) quiet since before {Until:O}")]
    public static partial void InactivityScanned(ILogger logger, string campaignId, DateTimeOffset? fireTime, int found, DateTimeOffset until);

    [LoggerMessage(3013, LogLevel.Debug, "Inactivity scan of campaign {CampaignId} (fired for {FireTime:O}): nobody new quiet since before {Until:O}")]
    public static partial void InactivityScannedNone(ILogger logger, string campaignId, DateTimeOffset? fireTime, DateTimeOffset until);

    [LoggerMessage(3010, LogLevel.Information, "Schedule of campaign {CampaignId} fired for {FireTime:O}: {Matched} customer(s) in the segment, {Scheduled} step(s) scheduled")]
    public static partial void ScheduleRan(ILogger logger, string campaignId, DateTimeOffset fireTime, int matched, int scheduled);

    [LoggerMessage(3011, LogLevel.Information, "Campaign {CampaignId} runs on schedule '{Cron}' ({Zone}); next firing {Next:O}")]
    public static partial void ScheduleJobPlanned(ILogger logger, string campaignId, string cron, string zone, DateTimeOffset? next);

    [LoggerMessage(3012, LogLevel.Error, "Updating the Quartz jobs for the new rules failed: {Reason}")]
    public static partial void JobsSyncFailed(ILogger logger, string reason);

    [LoggerMessage(4001, LogLevel.Information, "Rules version {Version} in force: {Campaigns} campaign(s); {Cancelled} pending step(s) of removed or changed campaigns cancelled")]
    public static partial void RulesActive(ILogger logger, string version, int campaigns, int cancelled);

    [LoggerMessage(4002, LogLevel.Information, "Rules reloaded: version {Previous} -> {Version}, {Campaigns} campaign(s); {Cancelled} pending step(s) of removed or changed campaigns cancelled")]
    public static partial void RulesReloaded(ILogger logger, string previous, string version, int campaigns, int cancelled);

    [LoggerMessage(4003, LogLevel.Warning, "Rules change refused; version {Version} stays in force. {Count} error(s):\n{Errors}")]
    public static partial void RulesRefused(ILogger logger, string version, int count, string errors);

    [LoggerMessage(5001, LogLevel.Warning, "Posting audience changes to connector {Connector} failed ({Reason}); they wait for the next round")]
    public static partial void ConnectorPushFailed(ILogger logger, string connector, string reason);

    [LoggerMessage(5002, LogLevel.Warning, "{Sweep} failed; trying again in {Interval}")]
    public static partial void SweepFailed(ILogger logger, Exception exception, string sweep, TimeSpan interval);

    [LoggerMessage(5003, LogLevel.Information, "The address of action {ActionId} (customer {CustomerId}) hard-bounced ({Status}); no more mail goes to it")]
    public static partial void HardBounce(ILogger logger, string actionId, string? customerId, int status);

    [LoggerMessage(6001, LogLevel.Information, "Applied schema migration {Version} on {Provider}")]
    public static partial void MigrationApplied(ILogger logger, string version, string provider);

    [LoggerMessage(7001, LogLevel.Warning, "Publishing outbound events to {Exchange} failed ({Pending} waiting, kept in the outbox; retrying in {Delay}): {Reason}")]
    public static partial void OutboxPublishFailed(ILogger logger, string exchange, long pending, TimeSpan delay, string reason);

    [LoggerMessage(7002, LogLevel.Information, "Publishing outbound events to {Exchange} again")]
    public static partial void OutboxPublishing(ILogger logger, string exchange);

    [LoggerMessage(7003, LogLevel.Debug, "Published {Count} outbound event(s) in {Milliseconds:F1} ms")]
    public static partial void OutboxPublished(ILogger logger, int count, double milliseconds);

    static readonly Func<ILogger, string, string?, IDisposable?> s_eventScope =
        LoggerMessage.DefineScope<string, string?>("eventId {eventId} customerId {customerId}");
    static readonly Func<ILogger, string, string, string?, IDisposable?> s_actionScope =
        LoggerMessage.DefineScope<string, string, string?>("actionId {actionId} campaignId {campaignId} customerId {customerId}");
    static readonly Func<ILogger, string, IDisposable?> s_campaignScope = LoggerMessage.DefineScope<string>("campaignId {campaignId}");

    /// <summary>A journey event's scope: what is logged while it is handled names it.</summary>
    public static IDisposable? EventScope(ILogger logger, string eventId, string? customerId) => s_eventScope(logger, eventId, customerId);

    /// <summary>An action's delivery.</summary>
    public static IDisposable? ActionScope(ILogger logger, string actionId, string campaignId, string? customerId) => s_actionScope(logger, actionId, campaignId, customerId);

    /// <summary>A campaign's scan or scheduled firing.</summary>
    public static IDisposable? CampaignScope(ILogger logger, string campaignId) => s_campaignScope(logger, campaignId);

    // No id of the erased customer in the log: the log outlives the erasure.
    [LoggerMessage(9001, LogLevel.Information, "Erased a customer: {Profiles} profile(s), {Pending} pending action(s) cancelled, {Audiences} audience membership(s) ended, {Addresses} address(es) kept as a hash on the suppression list")]
    public static partial void CustomerErased(ILogger logger, int profiles, int pending, int audiences, int addresses);

    [LoggerMessage(9101, LogLevel.Debug, "Counters: a batch of {Events} event(s) and log rows, {Profiles} customer(s) recounted, up to seq {Seq}: reads {ReadMs:F0} ms, writes {WriteMs:F0} ms")]
    public static partial void FunnelCounted(ILogger logger, int events, int profiles, long seq, double readMs, double writeMs);

    [LoggerMessage(9102, LogLevel.Warning, "Funnel counters could not be brought up to date (retrying at the next interval): {Reason}")]
    public static partial void FunnelCountFailed(ILogger logger, string reason);
}
