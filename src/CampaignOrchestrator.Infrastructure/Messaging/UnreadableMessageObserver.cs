using CampaignOrchestrator.Core.Events;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// Logs once and counts a message that failed before the consumer could see it (a body that is
/// not JSON fails in the deserializer). MassTransit moves it to the error queue with the reason in
/// the <c>MT-Fault-Message</c> header; contract violations the consumer finds are counted there.
/// </summary>
internal sealed class UnreadableMessageObserver(InboundMetrics metrics, ILogger<UnreadableMessageObserver> logger) : IReceiveObserver
{
    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class => Task.CompletedTask;

    public Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        if (exception is JourneyEventRejectedException || exception.InnerException is JourneyEventRejectedException)
            return Task.CompletedTask;
        metrics.Rejected("unreadable");
        Log.MessageUnreadable(logger, context.GetMessageId()?.ToString() ?? context.TransportHeaders.Get<string>("message-id"), exception.GetBaseException().Message);
        return Task.CompletedTask;
    }
}
