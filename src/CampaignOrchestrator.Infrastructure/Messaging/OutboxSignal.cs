namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>Wakes the outbox publisher when a transaction wrote events (it also looks by itself now and then).</summary>
public sealed class OutboxSignal
{
    readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try { _signal.Release(); } catch (SemaphoreFullException) { }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
