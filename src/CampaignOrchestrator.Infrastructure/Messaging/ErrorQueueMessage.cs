using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>One message in the error queue, as an operator sees it.</summary>
public sealed record ErrorQueueMessage(
    string Id, string? EventId, string? Reason, string? ExceptionType, string? FaultedAt, string? RoutingKey, int SizeBytes, string Body);
