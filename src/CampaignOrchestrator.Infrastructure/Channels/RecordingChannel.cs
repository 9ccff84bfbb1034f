using System.Collections.Concurrent;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Takes every kind of action and remembers it, sending nothing: the channel until the real ones
/// exist, and for tests and dry runs. The outcome log records each delivery as from any channel.
/// </summary>
public sealed class RecordingChannel : IActionChannel
{
    readonly ConcurrentQueue<DueAction> _delivered = new();

    /// <summary>Everything delivered since start, in delivery order.</summary>
    public IReadOnlyCollection<DueAction> Delivered => _delivered;

    public bool Handles(string kind) => true;

    public Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken)
    {
        _delivered.Enqueue(action);
        return Task.FromResult(ChannelResult.Ok("recorded"));
    }
}
