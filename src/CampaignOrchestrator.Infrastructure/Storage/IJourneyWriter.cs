using CampaignOrchestrator.Core.Events;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>Puts an event on the journeys as if it had been consumed (derived events). One writer serializes them with the inbound ones.</summary>
internal interface IJourneyWriter
{
    /// <summary>Completes when the event is committed: true if stored, false if its eventId was seen before.</summary>
    Task<bool> WriteAsync(AcceptedEvent evt, CancellationToken cancellationToken);
}
