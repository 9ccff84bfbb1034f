using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// Lists and replays the messages MassTransit moved to <c>&lt;queue&gt;_error</c> (wire contract:
/// "An operator can list and replay those messages"). Listing leaves them where they are; replay
/// moves the chosen ones back to the worker's queue without the fault headers, each acked from the
/// error queue only after the broker confirmed the republish, so nothing is lost or doubled.
/// </summary>
public sealed class ErrorQueue(IOptions<BusOptions> options)
{
    const int MaxBodyChars = 4096;

    string QueueName => options.Value.QueueName;

    /// <summary>The error queue's name.</summary>
    public string ErrorQueueName => QueueName + "_error";

    /// <summary>Up to <paramref name="limit"/> messages, oldest first; none is removed.</summary>
    public async Task<IReadOnlyList<ErrorQueueMessage>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var list = new List<ErrorQueueMessage>();
        try
        {
            while (list.Count < limit && await channel.BasicGetAsync(ErrorQueueName, autoAck: false, cancellationToken) is { } message)
                list.Add(Describe(message));
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return list; // no error queue yet: nothing has failed
        }
        // Closing the channel returns every unacknowledged message to the queue.
        await channel.CloseAsync(cancellationToken);
        return list;
    }

    /// <summary>Marks a message replayed by one request, so the request stops when the same message fails again and comes back.</summary>
    const string ReplayHeader = "x-campaign-replay";

    /// <summary>
    /// Moves the messages with the given ids (all, when <paramref name="ids"/> is null) back to the
    /// worker's queue, looking at most at <paramref name="limit"/> messages and at most at the ones in the queue when
    /// it starts: a message that fails again and returns to the error queue meanwhile is not replayed twice by the
    /// same request. Returns how many moved.
    /// </summary>
    public async Task<int> ReplayAsync(IReadOnlySet<string>? ids, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        await using var reader = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await using var writer = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), cancellationToken);
        var moved = 0;
        var request = Guid.NewGuid().ToString("N");
        try
        {
            var waiting = (await reader.QueueDeclarePassiveAsync(ErrorQueueName, cancellationToken)).MessageCount;
            for (var seen = 0; seen < Math.Min(limit, waiting) && await reader.BasicGetAsync(ErrorQueueName, autoAck: false, cancellationToken) is { } message; seen++)
            {
                if (HeaderText(message, ReplayHeader) == request)
                    break; // replayed by this request, failed again and came back: the rest is newer still
                if (ids is not null && !ids.Contains(IdOf(message)))
                    continue;
                var headers = message.BasicProperties.Headers?
                    .Where(h => !h.Key.StartsWith("MT-Fault", StringComparison.Ordinal) && !h.Key.StartsWith("MT-Host", StringComparison.Ordinal) && h.Key != "MT-Reason")
                    .ToDictionary(h => h.Key, h => h.Value) ?? new Dictionary<string, object?>();
                headers[ReplayHeader] = request;
                var properties = new BasicProperties(message.BasicProperties) { Headers = headers };
                // Straight to the worker's queue (default exchange), not to every queue bound to journey-events.
                await writer.BasicPublishAsync("", QueueName, true, properties, message.Body, cancellationToken);
                await reader.BasicAckAsync(message.DeliveryTag, false, cancellationToken);
                moved++;
            }
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
        await reader.CloseAsync(cancellationToken);
        return moved;
    }

    /// <summary>Removes the messages with the given ids from the error queue for good; returns how many it removed.</summary>
    public async Task<int> DeleteAsync(IReadOnlySet<string> ids, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var deleted = 0;
        try
        {
            var waiting = (await channel.QueueDeclarePassiveAsync(ErrorQueueName, cancellationToken)).MessageCount;
            for (var seen = 0; seen < waiting && deleted < ids.Count && await channel.BasicGetAsync(ErrorQueueName, autoAck: false, cancellationToken) is { } message; seen++)
            {
                if (!ids.Contains(IdOf(message)))
                    continue;
                await channel.BasicAckAsync(message.DeliveryTag, false, cancellationToken);
                deleted++;
            }
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
        // Closing the channel returns the others, unacknowledged, to the queue.
        await channel.CloseAsync(cancellationToken);
        return deleted;
    }

    async Task<IConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        return await options.Value.RabbitMq.ConnectAsync("campaign-orchestrator-errors", cancellationToken);
    }

    static string? HeaderText(BasicGetResult message, string name) =>
        message.BasicProperties.Headers?.TryGetValue(name, out var v) == true
            ? v switch { byte[] b => Encoding.UTF8.GetString(b), null => null, var o => o.ToString() }
            : null;

    static ErrorQueueMessage Describe(BasicGetResult message)
    {
        string? Header(string name) => HeaderText(message, name);
        return new ErrorQueueMessage(IdOf(message), TryReadEventId(message.Body.Span), Header("MT-Fault-Message"),
            Header("MT-Fault-ExceptionType"), Header("MT-Fault-Timestamp"), message.RoutingKey, message.Body.Length,
            BodyPreview(message.Body.Span));
    }

    /// <summary>The body's first <see cref="MaxBodyChars"/> characters, decoded from its first bytes only: a 16 MB body is not
    /// turned into a 32 MB string to show 4 KB of it.</summary>
    internal static string BodyPreview(ReadOnlySpan<byte> body)
    {
        var head = body[..Math.Min(body.Length, MaxBodyChars * 4)];   // UTF-8: at most 4 bytes a character
        var text = Encoding.UTF8.GetString(head);
        return text.Length > MaxBodyChars ? text[..MaxBodyChars] + "…" : head.Length < body.Length ? text + "…" : text;
    }

    /// <summary>The message-id property, or a hash of the body when the publisher set none.</summary>
    static string IdOf(BasicGetResult message) =>
        message.BasicProperties.MessageId is { Length: > 0 } id
            ? id
            : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(message.Body.Span))[..16];

    /// <summary>The eventId of a JSON body, when one can be read.</summary>
    internal static string? TryReadEventId(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isEventId = reader.ValueTextEquals("eventId");
                if (!reader.Read())
                    return null;
                if (isEventId)
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not JSON, or a string JSON allows and .NET cannot hold (a lone UTF-16 surrogate, "\ud800"): no eventId to show.
        }
        return null;
    }
}
