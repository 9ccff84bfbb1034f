using System.Collections.Concurrent;
using CampaignOrchestrator.Infrastructure.Actions;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Takes every kind of action and remembers the last <c>keep</c> of them, sending nothing: the channel
/// until the real ones exist, and for tests and dry runs. The outcome log records each delivery as
/// from any channel. A running worker keeps none (remembering every action would grow without end).
/// </summary>
public sealed class RecordingChannel(int keep = int.MaxValue) : IActionChannel
{
    readonly ConcurrentQueue<DueAction> _delivered = new();

    /// <summary>What was delivered since start (the last <c>keep</c>), in delivery order.</summary>
    public IReadOnlyCollection<DueAction> Delivered => _delivered;

    public bool Handles(string kind) => true;

    public Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken)
    {
        if (keep > 0)
        {
            _delivered.Enqueue(action);
            while (_delivered.Count > keep)
                _delivered.TryDequeue(out _);
        }
        return Task.FromResult(ChannelResult.Ok("recorded"));
    }
}
