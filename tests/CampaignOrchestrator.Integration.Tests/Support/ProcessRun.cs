using System.Diagnostics;
using Npgsql;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>
/// What a test with worker processes sets up and must clean up: a run id, a temporary folder with the rules, a
/// database of its own (PostgreSQL, or a SQLite file in the folder), a queue, a mail domain, the workers' environment, a
/// publisher, and the workers it started. Disposing it kills the workers, deletes the queues, drops the database and
/// the folder.
/// </summary>
internal sealed class ProcessRun : IAsyncDisposable
{
    readonly List<Process> _workers = [];

    ProcessRun(string name, string folder, Db db, string connectionString, RabbitPublisher shop)
    {
        Id = Guid.NewGuid().ToString("N")[..10];
        Folder = folder;
        Db = db;
        Queue = "co-test-" + Id;
        Domain = $"{name}-{Id}.example";
        ConnectionString = connectionString;
        Shop = shop;
        RulesPath = Path.Combine(Folder, "rules.yaml");
        Environment = new Dictionary<string, string>
        {
            ["Bus__QueueName"] = Queue,
            ["Storage__Provider"] = db.ToString(),
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
    public Db Db { get; }
    public string RulesPath { get; }
    public RabbitPublisher Shop { get; }
    /// <summary>The environment every worker of this run starts with (change it before starting one).</summary>
    public Dictionary<string, string> Environment { get; }

    /// <summary>
    /// Requires RabbitMQ, the database and (with <paramref name="mail"/>) the SMTP sink, and sets up a run with these rules
    /// (null: the worker's default rules). <paramref name="rabbitPort"/>: the shop publishes to that broker node instead (a
    /// cluster's; the caller requires it).
    /// </summary>
    public static async Task<ProcessRun> StartAsync(string name, string? rules, bool mail = true, int? rabbitPort = null, Db db = Db.Postgres)
    {
        if (rabbitPort is null)
            TestServers.RequireRabbitMq();
        if (mail)
            TestServers.RequireSmtp();
        var folder = Directory.CreateTempSubdirectory($"co-{name}-").FullName;
        var connectionString = db == Db.Postgres ? await TestServers.CreatePostgresDatabaseAsync() : $"Data Source={Path.Combine(folder, "journeys.db")}";
        var run = new ProcessRun(name, folder, db, connectionString, await RabbitPublisher.ConnectAsync(rabbitPort));
        if (rules is null)
            run.Environment.Remove("Rules__Path");
        else
            await File.WriteAllTextAsync(run.RulesPath, rules);
        return run;
    }

    /// <summary>The run's queue declared and bound now, so events published before a worker starts wait in it (a backlog).</summary>
    public async Task DeclareQueueAsync()
    {
        await Shop.Channel.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false);
        await Shop.Channel.QueueBindAsync(Queue, Contracts.Inbound.JourneyEventsTopology.ExchangeName, "#");
    }

    /// <summary>A read-only connection to the run's SQLite file.</summary>
    public Microsoft.Data.Sqlite.SqliteConnection ConnectSqlite() => new($"{ConnectionString};Mode=ReadOnly");

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

    /// <summary>A connection to the run's PostgreSQL database.</summary>
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
        if (Db == Db.Postgres)
            await TestServers.DropPostgresDatabaseAsync(ConnectionString);
        else
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Folder, recursive: true);
    }
}
