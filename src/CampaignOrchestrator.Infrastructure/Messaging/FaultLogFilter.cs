using CampaignOrchestrator.Core.Events;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// The one place a failed message is logged (MassTransit's own R-FAULT lines are switched off in
/// appsettings.json), in the receive endpoint's error pipe, which only failed messages pass: a message
/// that failed before the consumer could see it (a body that is not JSON fails in the deserializer) and
/// one the journey store could not take (after the write buffer's retries of transient failures). The
/// rest of the error pipe moves both to the error queue with the reason in the <c>MT-Fault-Message</c>
/// header. Contract violations the consumer finds are logged and counted there.
/// (A receive observer did this before; observers are called for every message, this filter only for failures.)
/// </summary>
internal sealed class FaultLogFilter(InboundMetrics metrics, ILogger logger) : IFilter<ExceptionReceiveContext>
{
    public Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        var exception = context.Exception;
        if (exception is not JourneyEventRejectedException && exception.InnerException is not JourneyEventRejectedException)
        {
            if (context.TryGetPayload(out ConsumeContext? _))
                Log.EventFailed(logger, ErrorQueue.TryReadEventId(context.Body.GetBytes()), exception.GetType().Name, exception.GetBaseException().Message);
            else
            {
                metrics.Rejected("unreadable");
                Log.MessageUnreadable(logger, context.GetMessageId()?.ToString() ?? context.TransportHeaders.Get<string>("message-id") ?? "(no message-id)",
                    exception.GetBaseException().Message);
            }
        }
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("faultLog");
}
