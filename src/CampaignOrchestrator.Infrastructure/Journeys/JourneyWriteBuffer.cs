using System.Threading.Channels;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace CampaignOrchestrator.Infrastructure.Journeys;

/// <summary>
/// Groups events from concurrent consumers into one store transaction. A consumer awaits its
/// event's commit before the message is acknowledged, so nothing is acked before its effects are
/// durable. Under load, batches grow up to <see cref="MaxBatchSize"/> by themselves (whatever queued
/// while the previous transaction ran); at low load each event is written at once.
/// A transient store failure (database unreachable, busy, restarting) is retried as a whole batch with
/// jittered exponential backoff, <c>Bus:RetryLimit</c> times (about 5 minutes by default), while the
/// messages stay unacknowledged. Any other failure, or one that outlasts the retries, splits the batch:
/// each event is written on its own, so one bad event cannot fail the rest, and what still fails goes
/// back to its consumer and from there to the error queue with the reason.
/// </summary>
internal sealed class JourneyWriteBuffer(JourneyStore store, IOptions<BusOptions> bus, ILogger<JourneyWriteBuffer> logger) : BackgroundService, IJourneyWriter
{
    /// <summary>Most events in one transaction.</summary>
    public const int MaxBatchSize = 500;

    readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    readonly ResiliencePipeline _retry = CreateRetry(bus.Value.RetryLimit, logger);

    static ResiliencePipeline CreateRetry(int limit, ILogger logger) =>
        limit == 0
            ? ResiliencePipeline.Empty
            : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(TransientErrors.IsTransient),
                MaxRetryAttempts = limit,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(60),
                OnRetry = args =>
                {
                    var count = args.Context.Properties.GetValue(BatchSize, 0);
                    Log.StoreRetry(logger, args.Outcome.Exception?.GetType().Name + ": " + args.Outcome.Exception?.Message, args.AttemptNumber + 1, count, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            }).Build();

    static readonly ResiliencePropertyKey<int> BatchSize = new("batch-size");

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
        var events = batch.Select(p => p.Event).ToList();
        var transientFailure = false;
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var result = await StoreAsync(events, _retry, stoppingToken);
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
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: every consumer of the batch hears it (the messages stay unacknowledged and come back).
            foreach (var p in batch)
                p.Done.TrySetCanceled(stoppingToken);
            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            transientFailure = TransientErrors.IsTransient(ex);
            Log.BatchFailed(logger, batch.Count, ex.GetType().Name + ": " + ex.Message);
        }
        catch (Exception ex)
        {
            batch[0].Done.TrySetException(ex);
            return;
        }
        // One event at a time. After a transient failure outlasted the retries, once each (the store
        // is down: the events go to the error queue, to be replayed); otherwise with retries.
        var perEvent = transientFailure ? ResiliencePipeline.Empty : _retry;
        foreach (var p in batch)
        {
            try
            {
                p.Done.TrySetResult((await StoreAsync([p.Event], perEvent, stoppingToken)).Stored[0]);
            }
            catch (Exception ex)
            {
                p.Done.TrySetException(ex);
            }
        }
    }

    async Task<BatchResult> StoreAsync(List<AcceptedEvent> events, ResiliencePipeline retry, CancellationToken stoppingToken)
    {
        var context = ResilienceContextPool.Shared.Get(stoppingToken);
        context.Properties.Set(BatchSize, events.Count);
        try
        {
            return await retry.ExecuteAsync(static async (ctx, state) => await state.store.ApplyAsync(state.events, ctx.CancellationToken),
                context, (store, events));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    readonly record struct Pending(AcceptedEvent Event, TaskCompletionSource<bool> Done);
}
