using System.Globalization;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Preview;

/// <summary>
/// The worker's components (journey store, rules, dispatcher, trigger scans) on a throwaway SQLite file and a clock that
/// moves only when told: <c>rules simulate</c> prints what happens as it goes (<paramref name="output"/>); a rules preview
/// (<see cref="RulesPreview"/>) runs two without output and compares what their actions became.
/// </summary>
internal sealed class Simulation : IDisposable
{
    readonly CompiledRules rules;
    readonly string folder;
    readonly TextWriter? output;

    public Simulation(CompiledRules rules, string folder, TextWriter? output)
    {
        (this.rules, this.folder, this.output) = (rules, folder, output);
        _clock = new VirtualClock();
        _skips = new CapturingLogger<JourneyStore>(_clock, keep: output is not null);
    }

    public void Dispose() => _database?.Dispose();

    /// <summary>Applies events that arrived together at <paramref name="at"/> (the clock moves there first), as one batch.</summary>
    public async Task ConsumeBatchAsync(IReadOnlyList<AcceptedEvent> events, DateTimeOffset at)
    {
        if (at > _clock.Now)
            _clock.Now = at;
        await _store.ApplyAsync(events, default);
    }

    /// <summary>
    /// Moves the clock to <paramref name="target"/> at once and fires what fell due on the way in one go (cron schedules at
    /// their own times): coarser than <see cref="AdvanceToAsync"/>, which stops at every due time, and much faster over days
    /// of events; a preview calls it at most once a minute of its window.
    /// </summary>
    public async Task CatchUpAsync(DateTimeOffset target)
    {
        if (target <= _clock.Now)
            return;
        foreach (var campaign in rules.Schedules)
        {
            var cron = new Quartz.CronExpression(((ScheduleTrigger)campaign.Trigger).Cron, rules.Rules.Defaults.TimeZone);
            for (var fire = cron.GetNextValidTimeAfter(_clock.Now); fire is { } at && at <= target; fire = cron.GetNextValidTimeAfter(at))
                await _scans.RunScheduleAsync(campaign.Id, at, default);
        }
        _clock.Now = target;
        await _scans.ScanInactivityAsync(default);
        while (await _dispatcher.FireDueAsync(default) > 0) { }
    }

    /// <summary>Every action the run scheduled, and what it became (status and reason) by the clock's time.</summary>
    public Task<IReadOnlyList<ActionState>> ActionsAsync() => _actions.StatesAsync(default);

    readonly VirtualClock _clock;
    readonly CapturingLogger<JourneyStore> _skips;
    readonly RecordingChannel _channel = new(keep: 0); // the outcome log records each delivery; nothing kept in memory
    Database _database = null!;
    JourneyStore _store = null!;
    ActionDispatcher _dispatcher = null!;
    TriggerScans _scans = null!;
    ActionStore _actions = null!;
    long _seq;
    readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public async Task StartAsync(DateTimeOffset start)
    {
        _clock.Now = start;
        _database = new Database(StorageProvider.Sqlite, $"Data Source={Path.Combine(folder, "simulation.db")}", durable: false);
        await new SchemaMigrator(_database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
        var active = new ActiveRules(rules, start);
        _store = JourneyStore.Create(_database, active, _clock, _skips);
        _dispatcher = new ActionDispatcher(_database, new ActionStore(_database, NullLogger.Instance), active, [_channel], new DirectJourneyWriter(_store), new ActionMetrics(), _clock,
            Options.Create(new SchedulingOptions { LateAfter = TimeSpan.MaxValue }), NullLogger<ActionDispatcher>.Instance);
        _actions = new ActionStore(_database, NullLogger.Instance);
        _scans = TriggerScans.Create(_database, active, _clock, NullLogger<TriggerScans>.Instance);
    }

    public async Task ConsumeAsync(AcceptedEvent e)
    {
        if (e.OccurredAt > _clock.Now)
            _clock.Now = e.OccurredAt;
        if (output is not null)
            Write(_clock.Now, $"event {e.Type} {e.EventId} ({Who(e.CustomerId, e.AnonymousId)})");
        await _store.ApplyAsync([e], default);
        await ReportAsync();
    }

    /// <summary>Moves the clock to <paramref name="target"/>, firing due actions, inactivity scans and schedules in time order on the way.</summary>
    public async Task AdvanceToAsync(DateTimeOffset target)
    {
        while (true)
        {
            var (at, what) = await NextAsync();
            if (at is null || at > target)
                break;
            if (at > _clock.Now)
                _clock.Now = at.Value;
            if (what is { } scheduleId)
                await _scans.RunScheduleAsync(scheduleId, at.Value, default);
            await _scans.ScanInactivityAsync(default);
            while (await _dispatcher.FireDueAsync(default) > 0) { }
            await ReportAsync();
        }
        if (target > _clock.Now)
            _clock.Now = target;
    }

    /// <summary>The next moment something happens: an action falls due, a customer's inactivity ends, or a schedule fires.</summary>
    async Task<(DateTimeOffset? At, string? ScheduleId)> NextAsync()
    {
        var candidates = new List<(DateTimeOffset At, string? ScheduleId)>();
        if (await _actions.NextDueAsync(default) is { } due)
            candidates.Add((due, null));
        foreach (var campaign in rules.Inactivity)
            if (await _scans.NextInactiveAsync(campaign.Id, ((InactivityTrigger)campaign.Trigger).InactiveFor, default) is { } quiet)
                candidates.Add((quiet, null));
        foreach (var campaign in rules.Schedules)
        {
            var cron = new Quartz.CronExpression(((ScheduleTrigger)campaign.Trigger).Cron, rules.Rules.Defaults.TimeZone);
            if (cron.GetNextValidTimeAfter(_clock.Now) is { } fire)
                candidates.Add((fire, campaign.Id));
        }
        return candidates.Count == 0 ? (null, null) : candidates.MinBy(c => c.At);
    }

    async Task ReportAsync()
    {
        if (output is null)
            return;
        foreach (var (at, message) in _skips.Drain())
            Write(at, "  " + message);
        // New steps (the action rows record their scheduling), then what happened since (the outcome log).
        var scheduled = (await _actions.AllStepsAsync(default)).Where(a => _seen.Add(a.ActionId)).ToList();
        foreach (var a in scheduled)
            Write(a.CreatedAt, $"  {a.CampaignId} step {a.Step} {a.Kind}{Summary(a.Settings)}: scheduled for {Local(a.PlannedAt)} ({a.Cause})");
        var rows = await _actions.OutcomesAfterAsync(_seq, default);
        foreach (var r in rows)
        {
            _seq = r.Seq;
            var what = $"{r.CampaignId} step {r.Step} {r.Kind}{Summary(r.Settings)}";
            var line = r.Outcome switch
            {
                ActionStatus.Cancelled => $"  {what}: cancelled, {r.Reason}",
                ActionStatus.Deferred => $"{what}: deferred to {Local(r.NextDueAt!.Value)} ({r.Reason})",
                ActionStatus.Suppressed => $"{what}: suppressed ({r.Reason}) for {Who(r.CustomerId, r.ProfileId)}",
                ActionStatus.Delivered => $"{what}: would be delivered to {Who(r.CustomerId, r.ProfileId)}" + (r.Kind == CompiledRules.DeriveKind ? $" ({r.Reason})" : ""),
                ActionStatus.Failed => $"{what}: fails ({r.Reason})",
                _ => null,
            };
            if (line is not null)
                Write(r.At, line);
        }
    }

    public async Task SummaryAsync()
    {
        if (output is null)
            return;
        var counts = await _actions.StatusCountsAsync(default);
        output.WriteLine();
        output.WriteLine("Per campaign, what the steps became:");
        foreach (var g in counts.GroupBy(c => c.CampaignId))
            output.WriteLine($"  {g.Key}: " + string.Join(", ", g.Select(c => $"{c.Count} {c.Status}")));
        if (!counts.Any())
            output.WriteLine("  (no campaign started)");
    }

    void Write(DateTimeOffset at, string text) => output?.WriteLine($"{Local(at)}  {text}");

    string Local(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, rules.Rules.Defaults.TimeZone).ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);

    static string Who(string? customerId, string? other) =>
        customerId ?? (other is { } p && p.StartsWith("a:", StringComparison.Ordinal) ? "device " + p[2..] : other ?? "?");

    static string Summary(string settings)
    {
        if (JsonNode.Parse(settings) is not JsonObject o)
            return "";
        var parts = new[] { "template", "creative", "audience", "discountPercent", "amount", "op", "type" }
            .Where(k => o[k] is JsonValue).Select(k => $"{k} {o[k]}").ToList();
        return parts.Count == 0 ? "" : " (" + string.Join(", ", parts) + ")";
    }

}

/// <summary>A clock that moves only when the simulation moves it.</summary>
internal sealed class VirtualClock : TimeProvider
{
    public DateTimeOffset Now { get; set; }

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Keeps the store's "campaign not started" messages (with the clock's time) to print them in order.</summary>
internal sealed class CapturingLogger<T>(VirtualClock clock, bool keep = true) : Microsoft.Extensions.Logging.ILogger<T>
{
    readonly List<(DateTimeOffset, string)> _lines = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => keep;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        if (!keep || eventId.Id != 3001 || state is not IReadOnlyList<KeyValuePair<string, object?>> values)
            return;
        var get = values.ToDictionary(kv => kv.Key, kv => kv.Value);
        _lines.Add((clock.Now, $"{get["CampaignId"]}: not started for {get["CustomerId"] ?? "a device"}, {get["Reason"]}"));
    }

    public IEnumerable<(DateTimeOffset, string)> Drain()
    {
        var lines = _lines.ToList();
        _lines.Clear();
        return lines;
    }
}
