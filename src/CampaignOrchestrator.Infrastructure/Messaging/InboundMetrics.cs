using System.Diagnostics.Metrics;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// Counters of the inbound side, on the <c>CampaignOrchestrator</c> meter (for OpenTelemetry or
/// dotnet-counters) and as totals for <c>GET /api/metrics</c>.
/// </summary>
public sealed class InboundMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "CampaignOrchestrator";

    readonly Meter _meter;
    readonly Counter<long> _events;
    long _storedTotal, _duplicateTotal, _rejectedTotal;

    static readonly KeyValuePair<string, object?> StoredTag = new("outcome", "stored");
    static readonly KeyValuePair<string, object?> DuplicateTag = new("outcome", "duplicate");

    /// <summary>Creates the instruments: <c>campaign_orchestrator.journey_events</c> (<c>{event}</c>) by <c>outcome</c>
    /// (stored, duplicate, rejected; rejected also by <c>reason</c>), which Prometheus reads as
    /// <c>campaign_orchestrator_journey_events_total</c>.</summary>
    public InboundMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _events = _meter.CreateCounter<long>("campaign_orchestrator.journey_events", unit: "{event}",
            description: "Journey events consumed: stored on a timeline, seen before (duplicate), or rejected to the error queue");
    }

    /// <summary>Totals since start.</summary>
    public (long Stored, long Duplicates, long Rejected) Totals =>
        (Interlocked.Read(ref _storedTotal), Interlocked.Read(ref _duplicateTotal), Interlocked.Read(ref _rejectedTotal));

    internal void Stored() { _events.Add(1, StoredTag); Interlocked.Increment(ref _storedTotal); }

    internal void Duplicate() { _events.Add(1, DuplicateTag); Interlocked.Increment(ref _duplicateTotal); }

    internal void Rejected(string kind)
    {
        _events.Add(1, new KeyValuePair<string, object?>("outcome", "rejected"), new KeyValuePair<string, object?>("reason", kind));
        Interlocked.Increment(ref _rejectedTotal);
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
