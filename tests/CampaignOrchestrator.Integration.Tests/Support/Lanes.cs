using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("CampaignOrchestrator.Integration.Tests.Support.LongestFirst", "CampaignOrchestrator.Integration.Tests")]

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>
/// The test lanes (<c>infra/test.sh --fast</c> leaves out <see cref="Process"/> and <see cref="Fault"/>), and the
/// collections for tests that share something of the whole test process. Every other test class owns its data (its
/// own database, queue, mail domain and port) and runs beside the others.
/// </summary>
internal static class Lanes
{
    public const string Trait = "Lane";

    /// <summary>Tests that start workers as processes (<c>dotnet CampaignOrchestrator.Worker.dll</c>) or run the previous release.</summary>
    public const string Process = "process";

    /// <summary>Tests that stop, kill and restart the servers (RabbitMQ nodes, PostgreSQL, the SMTP sink).</summary>
    public const string Fault = "fault";
}

/// <summary>
/// Tests that read or change what the whole test process shares: the console, meters and activity listeners (which hear
/// every worker of the process), the broker's settings. They run one at a time, after the tests that run side by side.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCollection
{
    public const string Name = "process-wide";
}

/// <summary>Tests that run the operator CLI in the test process: it reads its key from CAMPAIGN_API_KEY, which they set.</summary>
[CollectionDefinition(Name)]
public sealed class ApiKeyVariableCollection
{
    public const string Name = "CAMPAIGN_API_KEY";
}

/// <summary>
/// Tests that start workers as processes on the test broker's default virtual host: one at a time (their workers share
/// its exchanges, and each loads both cores), beside the in-process tests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class WorkerProcessesCollection
{
    public const string Name = "worker processes";
}

/// <summary>
/// The order collections start in: the worker-process tests first (the longest run of the side-by-side phase: started
/// last, they would leave the other slots idle at the end), then the rest by name.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => c.DisplayName.Contains(WorkerProcessesCollection.Name, StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(c => c.DisplayName, StringComparer.Ordinal);
}
