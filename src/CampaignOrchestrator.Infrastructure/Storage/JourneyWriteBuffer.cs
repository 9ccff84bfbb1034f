using System.Threading.Channels;
using CampaignOrchestrator.Core.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// Groups events from concurrent consumers into one store transaction. A consumer awaits its
/// event's commit before the message is acknowledged, so nothing is acked before its effects are
/// durable. Under load, batches grow up to <see cref="MaxBatchSize"/> by themselves (whatever queued
/// while the previous transaction ran); at low load each event is written at once.
/// If a batch fails, each of its events is retried on its own so one bad event cannot fail the rest.
/// </summary>
internal sealed class JourneyWriteBuffer(JourneyStore store, ILogger<JourneyWriteBuffer> logger) : BackgroundService
{
    /// <summary>Most events in one transaction.</summary>
    public const int MaxBatchSize = 500;

    readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues an event and completes when it is committed: true if it was stored, false if its eventId
    /// was seen before. Throws what the store threw.</summary>
    public Task<bool> WriteAsync(AcceptedEvent evt, CancellationToken cancellationToken)
    {
        var pending = new Pending(evt, new TaskCompletionSource<bool>());
        if (!_queue.Writer.TryWrite(pending))
            throw new InvalidOperationException("The journey write buffer is stopped");
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatchSize);
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatchSize && reader.TryRead(out var pending))
                    batch.Add(pending);
                await FlushAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        _queue.Writer.TryComplete();
        while (reader.TryRead(out var left))
            left.Done.TrySetCanceled(stoppingToken);
        foreach (var p in batch)
            p.Done.TrySetCanceled(stoppingToken);
    }

    async Task FlushAsync(List<Pending> batch, CancellationToken stoppingToken)
    {
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var result = await store.ApplyAsync(batch.Select(p => p.Event).ToList(), stoppingToken);
            Log.BatchWritten(logger, batch.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            // Completing a task runs its consumer's continuation (the ack) inline. Doing that on one
            // thread, one after the other, beside the next batch, avoids dozens of threads contending
            // for the channel's lock at once (measured: +15 % end to end, docs/benchmarks.md).
            var done = batch.ToArray();
            _ = Task.Run(() =>
            {
                for (var i = 0; i < done.Length; i++)
                    done[i].Done.TrySetResult(result.Stored[i]);
            }, CancellationToken.None);
            return;
        }
        catch (Exception ex) when (batch.Count > 1 && ex is not OperationCanceledException)
        {
            Log.BatchFailed(logger, batch.Count, ex.GetType().Name + ": " + ex.Message);
        }
        catch (Exception ex)
        {
            batch[0].Done.TrySetException(ex);
            return;
        }
        foreach (var p in batch)
        {
            try
            {
                p.Done.TrySetResult((await store.ApplyAsync([p.Event], stoppingToken)).Stored[0]);
            }
            catch (Exception ex)
            {
                p.Done.TrySetException(ex);
            }
        }
    }

    readonly record struct Pending(AcceptedEvent Event, TaskCompletionSource<bool> Done);
}
