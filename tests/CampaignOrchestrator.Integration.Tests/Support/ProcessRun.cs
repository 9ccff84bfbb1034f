using System.Diagnostics;
using Npgsql;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>
/// What a test with worker processes sets up and must clean up: a run id, a temporary folder with the rules, a
/// PostgreSQL database of its own, a queue, a mail domain, the workers' environment, a publisher, and the workers it
/// started. Disposing it kills the workers, deletes the queues, drops the database and the folder.
/// </summary>
internal sealed class ProcessRun : IAsyncDisposable
{
    readonly List<Process> _workers = [];

    ProcessRun(string name, string connectionString, RabbitPublisher shop)
    {
        Id = Guid.NewGuid().ToString("N")[..10];
        Folder = Directory.CreateTempSubdirectory($"co-{name}-").FullName;
        Queue = "co-test-" + Id;
        Domain = $"{name}-{Id}.example";
        ConnectionString = connectionString;
        Shop = shop;
        RulesPath = Path.Combine(Folder, "rules.yaml");
        Environment = new Dictionary<string, string>
        {
            ["Bus__QueueName"] = Queue,
            ["Storage__Provider"] = "Postgres",
            ["Storage__ConnectionString"] = connectionString,
            ["Rules__Path"] = RulesPath,
            ["Email__From"] = $"Shop <mail@{Domain}>",
            ["Email__Smtp__Port"] = TestServers.SmtpPort.ToString(),
        };
    }

    public string Id { get; }
    public string Folder { get; }
    public string Queue { get; }
    /// <summary>The domain of the mails this run sends (<see cref="MailSink"/> counts by it).</summary>
    public string Domain { get; }
    public string ConnectionString { get; }
    public string RulesPath { get; }
    public RabbitPublisher Shop { get; }
    /// <summary>The environment every worker of this run starts with (change it before starting one).</summary>
    public Dictionary<string, string> Environment { get; }

    /// <summary>
    /// Requires RabbitMQ, PostgreSQL and (with <paramref name="mail"/>) the SMTP sink, and sets up a run with these rules.
    /// <paramref name="rabbitPort"/>: the shop publishes to that broker node instead (a cluster's; the caller requires it).
    /// </summary>
    public static async Task<ProcessRun> StartAsync(string name, string rules, bool mail = true, int? rabbitPort = null)
    {
        if (rabbitPort is null)
            TestServers.RequireRabbitMq();
        if (mail)
            TestServers.RequireSmtp();
        var connectionString = await TestServers.CreatePostgresDatabaseAsync();
        var run = new ProcessRun(name, connectionString, await RabbitPublisher.ConnectAsync(rabbitPort));
        await File.WriteAllTextAsync(run.RulesPath, rules);
        return run;
    }

    /// <summary>Starts a worker with the run's environment (and <paramref name="extra"/> over it); it is killed at the end.</summary>
    public async Task<(Process Process, HttpClient Http)> StartWorkerAsync(Dictionary<string, string>? extra = null, string[]? wrapper = null,
        string? workerDll = null)
    {
        var env = new Dictionary<string, string>(Environment);
        foreach (var (key, value) in extra ?? [])
            env[key] = value;
        var started = await WorkerProcess.StartAsync(env, wrapper, workerDll);
        lock (_workers)
            _workers.Add(started.Process);
        return started;
    }

    /// <summary>A connection to the run's database.</summary>
    public NpgsqlConnection Connect() => new(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
            await WorkerProcess.KillAsync(worker);
        try
        {
            await Shop.DeleteQueuesAsync(Queue);
            await Shop.DisposeAsync();
        }
        catch (Exception)
        {
            // a broker node a fault test killed may have taken the publisher's connection; the queues are the run's own
        }
        NpgsqlConnection.ClearAllPools();
        await TestServers.DropPostgresDatabaseAsync(ConnectionString);
        Directory.Delete(Folder, recursive: true);
    }
}
