using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Infrastructure.Storage;

namespace CampaignOrchestrator.Infrastructure.Journeys;

/// <summary>Writes events straight to the store, one call at a time: for the dry run and tests, where nothing else writes.</summary>
internal sealed class DirectJourneyWriter(JourneyStore store) : IJourneyWriter
{
    public async Task<bool> WriteAsync(AcceptedEvent evt, CancellationToken cancellationToken) =>
        (await store.ApplyAsync([evt], cancellationToken)).Stored[0];
}
