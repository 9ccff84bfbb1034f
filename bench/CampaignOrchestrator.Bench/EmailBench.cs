using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

namespace CampaignOrchestrator.Bench;

/// <summary>
/// Email throughput (docs/benchmarks.md): an SMTP sink of its own (aiosmtpd writing a Maildir, on loopback); first its
/// ceiling, <c>emails</c> messages of the size of a rendered template sent by plain MailKit clients over <c>pool</c>
/// connections at once; then the worker process firing <c>emails</c> due marketing emails (customers with consent, a
/// template, an unsubscribe link each) through its pool of the same size. Reports both rates and their ratio.
/// </summary>
internal static class EmailBench
{
    public static async Task RunAsync(string provider, string workerDll, string postgres, int rabbitPort, string vhost, int emails, int pool)
    {
        var folder = Directory.CreateTempSubdirectory("co-email-bench-").FullName;
        var maildir = Path.Combine(folder, "mail");
        foreach (var sub in new[] { "tmp", "new", "cur" })
            Directory.CreateDirectory(Path.Combine(maildir, sub));
        var smtpPort = FreePort();
        using var sink = Process.Start(new ProcessStartInfo("/usr/bin/python3",
            ["-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{smtpPort}", "-c", "aiosmtpd.handlers.Mailbox", maildir]) { RedirectStandardError = true })!;
        var (connectionString, pgDatabase) = await BenchDatabase.CreateAsync(provider, postgres, folder, "email");
        try
        {
            await WaitForPortAsync(smtpPort);
            await CeilingAsync(smtpPort, 500, pool, "warm"); // untimed: JIT and connections of the bench process
            var before = await CeilingAsync(smtpPort, emails, pool, "before");
            Console.WriteLine($"  plain MailKit clients, {pool} connections: {before:N0} emails/s (the sink's ceiling, before the worker)");

            // Customers with an email address and consent, and a due marketing email each.
            var database = new Database(provider == "Postgres" ? StorageProvider.Postgres : StorageProvider.Sqlite, connectionString);
            await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default);
            var now = DateTimeOffset.UtcNow;
            var store = JourneyStore.Create(database, new ActiveRules(new CompiledRules(RulesParser.Parse("campaigns: []", "none.yaml"), "none"), now),
                TimeProvider.System, NullLogger<JourneyStore>.Instance);
            foreach (var chunk in Enumerable.Range(0, emails).Chunk(500))
                await store.ApplyAsync(chunk.Select(i => new AcceptedEvent($"signup-{i}", "newsletter_signup", now.AddMinutes(-5), $"reader-{i}", null,
                    new JsonObject { ["email"] = $"reader-{i}@example.com", ["emailConsent"] = true, ["firstName"] = $"Reader {i}" }, null, null)).ToList(), default);
            var due = now.AddSeconds(20); // the worker starts and warms up meanwhile
            foreach (var chunk in Enumerable.Range(0, emails).Chunk(10_000))
            {
                await using var connection = await database.OpenAsync(default);
                await using var tx = await connection.BeginTransactionAsync();
                await new ActionStore(database, NullLogger.Instance).InsertAsync(connection, tx, chunk.Select(i => new ActionRow
                {
                    ActionId = $"mail-{i:x8}", CampaignId = "bench-mail", Step = 1, ProfileId = $"c:reader-{i}", TriggerId = $"signup-{i}", TriggeredAt = now,
                    Cause = "bench", Kind = "email", Channel = "email", Settings = "{\"template\":\"we-miss-you\"}", RulesVersion = "bench", Fingerprint = "bench",
                    PlannedAt = due, DueAt = due, CreatedAt = now,
                }).ToList(), [], default);
                await tx.CommitAsync();
            }
            database.Dispose();
            var rules = Path.Combine(folder, "mail.yaml");
            await File.WriteAllTextAsync(rules, """
                campaigns:
                  - id: bench-mail
                    trigger: { event: bench_never }
                    steps:
                      - action: { kind: email, template: we-miss-you }
                """);

            var port = 5193;
            var queue = "bench-email-" + Guid.NewGuid().ToString("N")[..8];
            using var worker = WorkerRuntime.Start(workerDll, queue, rabbitPort, vhost, provider, connectionString, port, new Dictionary<string, string>
            {
                ["Rules__Path"] = rules, ["Email__Smtp__Port"] = smtpPort.ToString(), ["Email__Smtp__PoolSize"] = pool.ToString(),
                ["Email__From"] = "Shop <news@shop.example>",
            });
            using var http = WorkerRuntime.Http(port);
            var peakRss = 0L;
            while (true)
            {
                JsonObject? m = null;
                try { m = await http.GetFromJsonAsync<JsonObject>("/api/metrics"); } catch (HttpRequestException) { }
                if (m is not null)
                {
                    peakRss = Math.Max(peakRss, (long)m["process"]!["workingSetBytes"]!);
                    var a = m["actions"]!;
                    if ((long)a["delivered"]! + (long)a["failed"]! + (long)a["suppressed"]! >= emails)
                        break;
                }
                if (DateTimeOffset.UtcNow > due.AddMinutes(10))
                    throw new TimeoutException($"not every email went out: {m?["actions"]?.ToJsonString()}");
                await Task.Delay(200);
            }
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
            await BenchRabbit.DeleteQueueAsync(rabbitPort, vhost, queue);

            var after = await CeilingAsync(smtpPort, emails, pool, "after");
            var ceiling = Math.Max(before, after);
            Console.WriteLine($"  plain MailKit clients, {pool} connections: {after:N0} emails/s (after the worker; the higher of the two is the ceiling)");
            database = new Database(provider == "Postgres" ? StorageProvider.Postgres : StorageProvider.Sqlite, connectionString);
            await using (var connection = await database.OpenAsync(default))
            {
                var outcomes = (await connection.QueryAsync<(string Outcome, long Count)>("SELECT outcome, count(*) FROM action_log GROUP BY outcome")).ToList();
                var span = await connection.QueryFirstAsync<(DateTimeOffset First, DateTimeOffset Last)>(
                    "SELECT min(at), max(at) FROM action_log WHERE outcome = 'delivered'");
                var delivered = outcomes.Where(o => o.Outcome == "delivered").Sum(o => o.Count);
                var rate = delivered / Math.Max(0.001, (span.Last - span.First).TotalSeconds);
                var arrived = Directory.GetFiles(Path.Combine(maildir, "new")).Length;
                Console.WriteLine($"  worker on {provider}: {rate:N0} emails/s = {rate / ceiling:P0} of the ceiling; {delivered:N0} delivered " +
                    $"({string.Join(", ", outcomes.Select(o => $"{o.Outcome} {o.Count:N0}"))}); {arrived - 2 * emails - 500:N0} arrived in the sink " +
                    $"(besides the plain clients' {2 * emails + 500:N0}); worker peak working set {peakRss / 1048576.0:N0} MB");
            }
            database.Dispose();
        }
        finally
        {
            try { sink.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await BenchDatabase.DropAsync(postgres, pgDatabase);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, true);
        }
    }

    /// <summary>Plain MailKit clients, one per connection, sending messages of a rendered template's size: the sink's own rate.</summary>
    static async Task<double> CeilingAsync(int port, int emails, int connections, string run)
    {
        var clients = new List<SmtpClient>();
        for (var i = 0; i < connections; i++)
        {
            var client = new SmtpClient();
            await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
            clients.Add(client);
        }
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select((client, c) => Task.Run(async () =>
        {
            for (var i = c; i < emails; i += connections)
            {
                var message = new MimeMessage { Subject = "We miss you", MessageId = $"ceiling-{run}-{i}@shop.example" };
                message.From.Add(MailboxAddress.Parse("Shop <news@shop.example>"));
                message.To.Add(MailboxAddress.Parse($"reader-{i}@example.com"));
                message.Body = new BodyBuilder
                {
                    HtmlBody = $"<p>Hi Reader {i}, it has been a while. Come and see what is new.</p><p><a href=\"http://127.0.0.1:5080/unsubscribe?token={new string('x', 180)}\">Unsubscribe</a></p>",
                    TextBody = $"Hi Reader {i}, it has been a while. Come and see what is new.\n\nUnsubscribe: http://127.0.0.1:5080/unsubscribe?token={new string('x', 180)}\n",
                }.ToMessageBody();
                await client.SendAsync(message);
            }
        })));
        var rate = emails / watch.Elapsed.TotalSeconds;
        foreach (var client in clients)
        {
            await client.DisconnectAsync(true);
            client.Dispose();
        }
        return rate;
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static async Task WaitForPortAsync(int port)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"the SMTP sink did not listen on {port}");
    }
}
