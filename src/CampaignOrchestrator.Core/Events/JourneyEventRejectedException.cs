namespace CampaignOrchestrator.Core.Events;

/// <summary>
/// A message breaks wire contract v1. It is never retried: the transport moves it to the error
/// queue with <see cref="Exception.Message"/> as the reason header.
/// </summary>
public sealed class JourneyEventRejectedException(string reason, string? eventId = null)
    : Exception(reason)
{
    /// <summary>The eventId, when one could be read from the message.</summary>
    public string? EventId { get; } = eventId;
}
