using CampaignOrchestrator.Core.Events;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// The one place a failed message is logged (MassTransit's own R-FAULT lines are switched off in
/// appsettings.json): a message that failed before the consumer could see it (a body that is not
/// JSON fails in the deserializer) and one the journey store could not take (after the write
/// buffer's retries of transient failures). MassTransit moves both to the
/// error queue with the reason in the <c>MT-Fault-Message</c> header. Contract violations the
/// consumer finds are logged and counted there.
/// </summary>
internal sealed class UnreadableMessageObserver(InboundMetrics metrics, ILogger<UnreadableMessageObserver> logger) : IReceiveObserver
{
    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class
    {
        if (exception is not JourneyEventRejectedException && exception.InnerException is not JourneyEventRejectedException)
            Log.EventFailed(logger, ErrorQueue.TryReadEventId(context.ReceiveContext.Body.GetBytes()), exception.GetType().Name, exception.GetBaseException().Message);
        return Task.CompletedTask;
    }

    public Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        if (exception is JourneyEventRejectedException || exception.InnerException is JourneyEventRejectedException)
            return Task.CompletedTask;
        metrics.Rejected("unreadable");
        Log.MessageUnreadable(logger, context.GetMessageId()?.ToString() ?? context.TransportHeaders.Get<string>("message-id") ?? "(no message-id)", exception.GetBaseException().Message);
        return Task.CompletedTask;
    }
}
