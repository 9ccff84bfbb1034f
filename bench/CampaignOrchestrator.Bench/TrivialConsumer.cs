using System.Text.Json.Nodes;
using MassTransit;

namespace CampaignOrchestrator.Bench;

/// <summary>Does nothing but count: the framework ceiling on the same broker.</summary>
public sealed class TrivialConsumer(TrivialConsumer.Counter counter) : IConsumer<JsonObject>
{
    public Task Consume(ConsumeContext<JsonObject> context)
    {
        counter.Hit();
        return Task.CompletedTask;
    }

    public sealed class Counter(int expected)
    {
        int _count;
        readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Time from the counter's creation to the first message.</summary>
        public TimeSpan FirstAt { get; private set; }

        /// <summary>Time from the counter's creation to the last message.</summary>
        public TimeSpan DoneAt { get; private set; }

        public void Hit()
        {
            var n = Interlocked.Increment(ref _count);
            if (n == 1) FirstAt = _clock.Elapsed;
            if (n == expected) { DoneAt = _clock.Elapsed; Done.TrySetResult(); }
        }
    }
}
