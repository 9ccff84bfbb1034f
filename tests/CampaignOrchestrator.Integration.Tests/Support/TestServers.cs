using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>
/// The real servers the tests use, started on loopback by <c>infra/services.sh start</c>.
/// A missing server fails the test with a message saying so; nothing is skipped.
/// </summary>
internal static class TestServers
{
    public static string RabbitHost => Environment.GetEnvironmentVariable("TEST_RABBITMQ_HOST") ?? "127.0.0.1";
    public static int RabbitPort => int.Parse(Environment.GetEnvironmentVariable("TEST_RABBITMQ_PORT") ?? "5672");
    static string PostgresServer => Environment.GetEnvironmentVariable("TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=5433;Username=postgres;Database=postgres;Timezone=UTC";

    /// <summary>
    /// The server's <c>postgres</c> database, for creating and dropping the tests' own. Not pooled: the fault tests restart
    /// the server, and a pooled connection from before would fail the next test's setup.
    /// </summary>
    public static string PostgresAdmin => new NpgsqlConnectionStringBuilder(PostgresServer) { Pooling = false }.ConnectionString;

    public static void RequireRabbitMq() => Require(RabbitHost, RabbitPort, "RabbitMQ");

    // Workers of tests running side by side would hear each other's events on the shared exchanges: each test's worker
    // gets a virtual host no other running test has (infra/services.sh vhosts makes them, once a run).
    const int VirtualHostCount = 8;
    static readonly SemaphoreSlim VirtualHostSlots = new(VirtualHostCount);
    static readonly System.Collections.Concurrent.ConcurrentQueue<string> FreeVirtualHosts =
        new(Enumerable.Range(1, VirtualHostCount).Select(i => $"co-test-{i}"));
    static readonly Lazy<Task> VirtualHostsMade = new(() => Infra("vhosts", "co-test-", VirtualHostCount.ToString()));

    /// <summary>A RabbitMQ virtual host of the test's own until it disposes the lease (waits while all are taken).</summary>
    public static async Task<VirtualHostLease> LeaseVirtualHostAsync()
    {
        RequireRabbitMq();
        await VirtualHostsMade.Value;
        await VirtualHostSlots.WaitAsync();
        FreeVirtualHosts.TryDequeue(out var name);
        return new VirtualHostLease(name!, () =>
        {
            FreeVirtualHosts.Enqueue(name!);
            VirtualHostSlots.Release();
        });
    }

    public sealed class VirtualHostLease(string name, Action release) : IDisposable
    {
        int _released;
        public string Name => name;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                release();
        }
    }

    public static int SmtpPort => int.Parse(Environment.GetEnvironmentVariable("TEST_SMTP_PORT") ?? "2525");

    /// <summary>Where the SMTP sink (aiosmtpd's Mailbox handler) writes what it receives: a Maildir.</summary>
    public static string Maildir => Environment.GetEnvironmentVariable("TEST_SMTP_MAILDIR") ?? Path.Combine(RepositoryRoot, ".data", "infra", "mail");

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "CampaignOrchestrator.sln")))
                    return dir.FullName;
            throw new InvalidOperationException("not inside the repository");
        }
    }

    /// <summary>The 3-node RabbitMQ cluster's AMQP ports (infra/services.sh cluster start).</summary>
    public static readonly int[] ClusterPorts = [5681, 5682, 5683];

    public static void RequireRabbitMqCluster()
    {
        foreach (var port in ClusterPorts)
            Require("127.0.0.1", port, "The 3-node RabbitMQ cluster (infra/services.sh cluster start)");
    }

    /// <summary>The previous release's worker (infra/previous-build.sh, run by infra/test.sh), or a failure saying it is missing.</summary>
    public static string RequirePreviousWorker()
    {
        var dll = Environment.GetEnvironmentVariable("TEST_PREVIOUS_WORKER");
        Assert.True(dll is not null && File.Exists(dll),
            $"the previous release's worker is needed: run infra/test.sh, or set TEST_PREVIOUS_WORKER=$(infra/previous-build.sh) (now: '{dll}')");
        return dll!;
    }

    public static void RequireSmtp() => Require("127.0.0.1", SmtpPort, "The SMTP sink");

    public static void RequirePostgres()
    {
        var b = new NpgsqlConnectionStringBuilder(PostgresAdmin);
        Require(b.Host!, b.Port, "PostgreSQL");
    }

    /// <summary>Creates a database for one test, empty or a copy of <paramref name="template"/>, and returns its connection string.</summary>
    public static async Task<string> CreatePostgresDatabaseAsync(string? template = null)
    {
        RequirePostgres();
        var name = "co_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(PostgresAdmin))
        {
            await admin.OpenAsync();
            await using var cmd = new NpgsqlCommand(template is null ? $"CREATE DATABASE {name}" : $"CREATE DATABASE {name} TEMPLATE {template}", admin);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(PostgresServer) { Database = name, Pooling = true }.ConnectionString;
    }

    public static async Task DropPostgresDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
        await using var admin = new NpgsqlConnection(PostgresAdmin);
        await admin.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        await cmd.ExecuteNonQueryAsync();
    }

    static void Require(string host, int port, string what)
    {
        try
        {
            using var client = new TcpClient();
            if (!client.ConnectAsync(host, port).Wait(TimeSpan.FromSeconds(3)))
                throw new TimeoutException();
        }
        catch (Exception ex)
        {
            Assert.Fail($"{what} is not reachable on {host}:{port} ({ex.GetBaseException().Message}). " +
                        "Start the test servers with: infra/services.sh start");
        }
    }

    /// <summary>Runs infra/services.sh with these arguments and waits for it; returns what it printed.</summary>
    public static async Task<string> Infra(params string[] args)
    {
        var psi = new ProcessStartInfo("bash", [Path.Combine(TestServers.RepositoryRoot, "infra", "services.sh"), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"infra/services.sh {string.Join(' ', args)} failed: {await stderr}");
        return await stdout;
    }
}
