using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Infrastructure.Storage;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// Where a journey event enters. Takes the message as JSON (raw JSON from any AMQP client, or the
/// typed <see cref="Contracts.Inbound.JourneyEvent"/> from a .NET publisher), checks it against the
/// wire contract, and hands it to the journey store; the message is acknowledged only after the
/// store committed it. A message that breaks the contract throws
/// <see cref="JourneyEventRejectedException"/>, which is never retried: it lands in the error queue
/// with the reason in the <c>MT-Fault-Message</c> header.
/// </summary>
internal sealed class JourneyEventConsumer(
    IJourneyWriter buffer, TimeProvider time, InboundMetrics metrics, ILogger<JourneyEventConsumer> logger, Microsoft.Extensions.Options.IOptions<BusOptions> bus)
    : IConsumer<JsonObject>
{
    readonly EventLimits _limits = bus.Value.Events;

    public async Task Consume(ConsumeContext<JsonObject> context)
    {
        AcceptedEvent evt;
        try
        {
            evt = JourneyEventValidator.Validate(EventBody(context), time.GetUtcNow(), _limits);
        }
        catch (JourneyEventRejectedException ex)
        {
            metrics.Rejected("contract");
            Log.EventRejected(logger, ex.EventId, ex.Message);
            throw;
        }

        if (Traces.ParentOf(System.Diagnostics.Activity.Current) is { } trace)
            evt = evt with { TraceParent = trace };
        using var scope = Log.EventScope(logger, evt.EventId, evt.CustomerId ?? evt.AnonymousId);
        if (await buffer.WriteAsync(evt, context.CancellationToken))
            metrics.Stored();
        else
            metrics.Duplicate();
    }

    // Raw JSON: the body is the event, validated as sent (context.Message is not touched, so
    // MassTransit's lazy JsonObject is never built). The MassTransit envelope wraps the event in
    // more JSON: there the event itself is validated.
    static byte[] EventBody(ConsumeContext<JsonObject> context) =>
        context.ReceiveContext.ContentType?.MediaType == "application/vnd.masstransit+json"
            ? System.Text.Encoding.UTF8.GetBytes(context.Message.ToJsonString())
            : context.ReceiveContext.Body.GetBytes();
}
