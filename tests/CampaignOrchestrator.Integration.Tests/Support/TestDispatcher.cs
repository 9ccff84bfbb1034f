using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>The dispatcher as the worker assembles it, over the channels a test gives, writing journeys through its store.</summary>
internal static class TestDispatcher
{
    public static ActionDispatcher Build(Database database, ActiveRules rules, IActionChannel[] channels, JourneyStore store, TimeProvider time,
        SchedulingOptions? options = null) =>
        new(database, new ActionStore(database, NullLogger.Instance), rules, channels, new DirectJourneyWriter(store), new ActionMetrics(), time, Options.Create(options ?? new SchedulingOptions()),
            NullLogger<ActionDispatcher>.Instance);
}
