using System.Diagnostics;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// The traces an operator follows, read with an in-process exporter from the running worker: one trace per event from
/// MassTransit's consume through the journey stored, the rules judged and the actions scheduled; a step due at once
/// delivered in that trace (in the journey transaction), a later step's delivery in a trace of its own, linked back to
/// the event's; each outbound event's publish linked to the delivery that wrote it.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed class TracingTests : IDisposable
{
    readonly RulesFolder _rules = new("campaigns.yaml", """
        campaigns:
          - id: hello-banner
            trigger: { event: page_viewed }
            steps:
              - action: { kind: banner, slot: home-hero, creative: hello }
              - delay: 1s
                action: { kind: banner, slot: sidebar, creative: later }
        """);

    public void Dispose() => _rules.Dispose();

    /// <summary>Spans end on many threads: the exporter's collection takes them under a lock.</summary>
    sealed class Spans : System.Collections.ObjectModel.Collection<Activity>
    {
        readonly Lock _lock = new();
        protected override void InsertItem(int index, Activity item) { lock (_lock) base.InsertItem(index, item); }
        public Activity[] Snapshot() { lock (_lock) return [.. this]; }
    }

    [Fact]
    public async Task An_event_is_one_trace_from_consume_to_actions_scheduled_and_its_delivery_and_publish_link_back()
    {
        var spans = new Spans();
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?>
        {
            ["Rules:Path"] = _rules.Path, ["Telemetry:Traces"] = "on", ["Telemetry:TraceSampleRatio"] = "1",
        }, services: s => s.ConfigureOpenTelemetryTracerProvider(b => b.AddInMemoryExporter(spans)));
        await using var shop = await worker.ShopAsync();
        var (customer, eventId) = (Events.Id("traced"), Events.Id("view"));
        await shop.PublishAsync(Events.Json("page_viewed", eventId, DateTimeOffset.UtcNow.AddMinutes(-1), customer));
        var journey = await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Count(a => (string?)a!["status"] == "delivered") == 2);
        var actions = journey["actions"]!.AsArray();
        string ActionOf(int step) => (string)actions.Single(a => (int)a!["step"]! == step)!["actionId"]!;
        var (atOnce, later) = (ActionOf(1), ActionOf(2));

        Activity? store = null, immediate = null, deliver = null, publishNow = null, publishLater = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < deadline && (publishNow is null || publishLater is null); await Task.Delay(100))
        {
            var all = spans.Snapshot();
            store = all.SingleOrDefault(s => s.DisplayName == "journey.store" && (string?)s.GetTagItem("campaign_orchestrator.event_id") == eventId);
            immediate = all.SingleOrDefault(s => s.DisplayName == "action.deliver" && (string?)s.GetTagItem("campaign_orchestrator.action_id") == atOnce);
            deliver = all.SingleOrDefault(s => s.DisplayName == "action.deliver" && (string?)s.GetTagItem("campaign_orchestrator.action_id") == later);
            publishNow = immediate is null ? null : all.FirstOrDefault(s => s.DisplayName == "outbox.publish" && s.Links.Any(l => l.Context.SpanId == immediate.SpanId));
            publishLater = deliver is null ? null : all.FirstOrDefault(s => s.DisplayName == "outbox.publish" && s.Links.Any(l => l.Context.SpanId == deliver.SpanId));
        }
        var seen = spans.Snapshot();
        Assert.True(store is not null, "no journey.store span: " + string.Join(", ", seen.Select(s => s.DisplayName)));
        // The event's trace: MassTransit's consume span, journey.store under it, judging and scheduling under that.
        var consume = seen.Single(s => s.SpanId == store.ParentSpanId);
        Assert.Equal("MassTransit", consume.Source.Name);
        Assert.Equal(store.TraceId, consume.TraceId);
        var judge = Assert.Single(seen, s => s.DisplayName == "rules.judge" && s.ParentSpanId == store.SpanId);
        var schedule = Assert.Single(seen, s => s.DisplayName == "actions.schedule" && s.ParentSpanId == store.SpanId);
        Assert.Equal(2, (int)schedule.GetTagItem("campaign_orchestrator.actions.scheduled")!);
        Assert.True(store.StartTimeUtc <= judge.StartTimeUtc && judge.StartTimeUtc + judge.Duration <= schedule.StartTimeUtc + schedule.Duration);
        // The step due at once: delivered in the event's own trace, under its consume span, while the journey was stored.
        Assert.NotNull(immediate);
        Assert.Equal(store.TraceId, immediate.TraceId);
        Assert.Equal(consume.SpanId, immediate.ParentSpanId);
        Assert.Equal("delivered", (string?)immediate.GetTagItem("campaign_orchestrator.outcome"));
        Assert.True(immediate.StartTimeUtc >= store.StartTimeUtc && immediate.StartTimeUtc <= store.StartTimeUtc + store.Duration);
        // The later step: its own trace under the dispatcher's round, linked to the event's trace.
        Assert.NotNull(deliver);
        Assert.NotEqual(store.TraceId, deliver.TraceId);
        Assert.Contains(deliver.Links, l => l.Context.TraceId == store.TraceId);
        Assert.Equal("delivered", (string?)deliver.GetTagItem("campaign_orchestrator.outcome"));
        Assert.Equal("actions.fire", seen.Single(s => s.SpanId == deliver.ParentSpanId).DisplayName);
        // Each banner.assigned published, linked to the delivery that wrote it.
        Assert.NotNull(publishNow);
        Assert.NotNull(publishLater);
    }
}
