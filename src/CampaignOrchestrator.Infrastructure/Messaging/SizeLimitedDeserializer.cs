using System.Net.Mime;
using CampaignOrchestrator.Contracts.Inbound;
using CampaignOrchestrator.Core.Events;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// A deserializer that refuses a body over the contract's limit (<see cref="JourneyEventsTopology.MaxBodyBytes"/>)
/// before its inner one parses it: an oversized message goes to the error queue with the reason, and is never turned
/// into a JSON tree. (It is a deserializer, not a receive filter, because MassTransit moves what fails in
/// deserialization to the error queue; an exception in a receive filter before it loses the message.) The broker's own
/// <c>max_message_size</c>, set in infra/services.sh, refuses far larger ones at the publisher.
/// </summary>
internal sealed class SizeLimitedSerializerFactory(ISerializerFactory inner, InboundMetrics metrics, ILogger logger) : ISerializerFactory
{
    public ContentType ContentType => inner.ContentType;

    public IMessageSerializer CreateSerializer() => inner.CreateSerializer();

    public IMessageDeserializer CreateDeserializer() => new Deserializer(inner.CreateDeserializer(), metrics, logger);

    sealed class Deserializer(IMessageDeserializer inner, InboundMetrics metrics, ILogger logger) : IMessageDeserializer
    {
        public ContentType ContentType => inner.ContentType;

        public void Probe(ProbeContext context) => inner.Probe(context);

        public ConsumeContext Deserialize(ReceiveContext receiveContext)
        {
            Check(receiveContext.Body);
            return inner.Deserialize(receiveContext);
        }

        public SerializerContext Deserialize(MessageBody body, Headers headers, Uri? destinationAddress = null)
        {
            Check(body);
            return inner.Deserialize(body, headers, destinationAddress);
        }

        public MessageBody GetMessageBody(string text) => inner.GetMessageBody(text);

        void Check(MessageBody body)
        {
            if (body.Length is not { } length || length <= JourneyEventsTopology.MaxBodyBytes)
                return;
            // Counted and logged here, as the consumer does for what it refuses (the error pipe logs only other failures).
            var rejected = new JourneyEventRejectedException($"body is {length} bytes; the limit is {JourneyEventsTopology.MaxBodyBytes} bytes (256 KiB)");
            metrics.Rejected("contract");
            Log.EventRejected(logger, null, rejected.Message);
            throw rejected;
        }
    }
}
