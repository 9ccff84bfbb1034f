using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Messaging;

namespace CampaignOrchestrator.Worker.Api;

/// <summary><c>GET /api/metrics</c> (viewer): the worker's counters and its process in one answer (Prometheus has them at <c>/metrics</c>).</summary>
internal static class MetricsApi
{
    public static IResult Get(InboundMetrics metrics, ActionMetrics actions)
    {
        var (stored, duplicates, rejected) = metrics.Totals;
        var (due, delivered, failed, suppressed, deferred) = actions.Totals;
        var lag = actions.Lag();
        return Results.Ok(new
        {
            journeyEvents = new { stored, duplicates, rejected },
            actions = new
            {
                due, delivered, failed, suppressed, deferred,
                firingLagMs = lag is { } l ? new { p50 = l.P50, p99 = l.P99, max = l.Max } : null,
            },
            process = new
            {
                workingSetBytes = Environment.WorkingSet,
                gcHeapBytes = GC.GetGCMemoryInfo().HeapSizeBytes,
                gcCommittedBytes = GC.GetGCMemoryInfo().TotalCommittedBytes,
                gcCollections = new { gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2) },
                gcPauseMs = (long)GC.GetTotalPauseDuration().TotalMilliseconds,
                allocatedBytes = GC.GetTotalAllocatedBytes(),
                jitCompilationMs = (long)System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds,
                cpuMs = (long)Environment.CpuUsage.TotalTime.TotalMilliseconds,
            },
        });
    }
}
