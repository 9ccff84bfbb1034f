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
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Hit() { if (Interlocked.Increment(ref _count) == expected) Done.TrySetResult(); }
    }
}
