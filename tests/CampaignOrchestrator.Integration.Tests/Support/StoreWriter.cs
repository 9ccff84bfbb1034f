using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Infrastructure.Storage;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>Writes derived events straight to the store (tests without the write buffer; one writer at a time).</summary>
internal sealed class StoreWriter(JourneyStore store) : IJourneyWriter
{
    public async Task<bool> WriteAsync(AcceptedEvent evt, CancellationToken cancellationToken) =>
        (await store.ApplyAsync([evt], cancellationToken)).Stored[0];
}
