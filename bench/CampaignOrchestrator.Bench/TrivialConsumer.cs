using System.Text.Json.Nodes;
using MassTransit;

namespace CampaignOrchestrator.Bench;

/// <summary>Does nothing but count: the framework ceiling on the same broker.</summary>
public sealed class TrivialConsumer(TrivialConsumer.Counter counter) : IConsumer<JsonObject>
{
    /// <summary>Experiment only (BENCH_TRIVIAL_DELAY_MS): hold each message this long before the ack.</summary>
    static readonly int DelayMs = int.TryParse(Environment.GetEnvironmentVariable("BENCH_TRIVIAL_DELAY_MS"), out var ms) ? ms : 0;

    public async Task Consume(ConsumeContext<JsonObject> context)
    {
        if (DelayMs > 0)
            await Task.Delay(DelayMs);
        counter.Hit();
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
