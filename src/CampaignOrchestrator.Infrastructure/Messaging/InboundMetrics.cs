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
    readonly Counter<long> _stored;
    readonly Counter<long> _duplicates;
    readonly Counter<long> _rejected;
    long _storedTotal, _duplicateTotal, _rejectedTotal;

    /// <summary>Creates the instruments.</summary>
    public InboundMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _stored = _meter.CreateCounter<long>("journey_events.stored", description: "Journey events stored on a timeline");
        _duplicates = _meter.CreateCounter<long>("journey_events.duplicates", description: "Journey events whose eventId was seen before");
        _rejected = _meter.CreateCounter<long>("journey_events.rejected", description: "Messages that broke the wire contract and went to the error queue");
    }

    /// <summary>Totals since start.</summary>
    public (long Stored, long Duplicates, long Rejected) Totals =>
        (Interlocked.Read(ref _storedTotal), Interlocked.Read(ref _duplicateTotal), Interlocked.Read(ref _rejectedTotal));

    internal void Stored() { _stored.Add(1); Interlocked.Increment(ref _storedTotal); }

    internal void Duplicate() { _duplicates.Add(1); Interlocked.Increment(ref _duplicateTotal); }

    internal void Rejected(string kind) { _rejected.Add(1, new KeyValuePair<string, object?>("reason", kind)); Interlocked.Increment(ref _rejectedTotal); }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
