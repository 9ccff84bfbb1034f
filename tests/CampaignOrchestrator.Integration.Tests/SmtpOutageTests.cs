using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Channels.Email;
using CampaignOrchestrator.Integration.Tests.Support;
using MimeKit;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// The SMTP server goes away in the middle of a run and comes back: the running worker keeps every mail that fell due
/// meanwhile waiting (recorded deferred, nothing failed), and once the server is back every mail arrives exactly once.
/// The server is an aiosmtpd of the test's own, on its own port and Maildir, so stopping it disturbs nothing else.
/// </summary>
public sealed class SmtpOutageTests : IAsyncLifetime
{
    readonly string _folder = Directory.CreateTempSubdirectory("co-smtp-outage-").FullName;
    readonly int _port = FreePort();
    Process? _sink;

    string Maildir => Path.Combine(_folder, "mail");

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(_folder, "rules.yaml"), TestRules.OrderConfirmation);
        foreach (var sub in new[] { "tmp", "new", "cur" })
            Directory.CreateDirectory(Path.Combine(Maildir, sub));
        await StartSinkAsync();
    }

    public Task DisposeAsync()
    {
        StopSink();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    async Task StartSinkAsync()
    {
        if (!File.Exists("/usr/bin/python3"))
            Assert.Fail("/usr/bin/python3 with aiosmtpd is needed (infra/services.sh start smtp installs python3-aiosmtpd)");
        _sink = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{_port}", "-c", "aiosmtpd.handlers.Mailbox", Maildir])
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
        })!;
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, _port);
                return;
            }
            catch (SocketException)
            {
                if (_sink.HasExited)
                    Assert.Fail("the SMTP sink did not start: " + await _sink.StandardError.ReadToEndAsync());
                await Task.Delay(100);
            }
        }
        Assert.Fail($"the SMTP sink did not listen on {_port} within 10 s");
    }

    void StopSink()
    {
        if (_sink is { HasExited: false })
        {
            _sink.Kill(entireProcessTree: true);
            _sink.WaitForExit();
        }
        _sink?.Dispose();
        _sink = null;
    }

    static MimeMessage Mail(string id)
    {
        var message = new MimeMessage { Subject = "kept connections", MessageId = id + "@pool.example" };
        message.From.Add(MailboxAddress.Parse("shop@pool.example"));
        message.To.Add(MailboxAddress.Parse("buyer@example.com"));
        message.Body = new TextPart("plain") { Text = "hello" };
        return message;
    }

    [Theory]
    [InlineData(false)]   // found closed by the send: made once more on a new connection
    [InlineData(true)]    // found closed by the NOOP check of a connection idle for longer than IdleCheckAfter
    public async Task Kept_connections_the_server_closed_are_replaced_and_the_next_mails_go_at_once(bool check)
    {
        await using var pool = new SmtpPool(new SmtpOptions { Port = _port, PoolSize = 2, IdleCheckAfter = check ? TimeSpan.Zero : TimeSpan.FromHours(1) });
        await Task.WhenAll(pool.SendAsync(Mail("a1"), default), pool.SendAsync(Mail("a2"), default));   // both connections open, kept
        StopSink();
        await StartSinkAsync();   // as a server's idle timeout or a restart does: every kept connection is closed on its side
        var took = Stopwatch.StartNew();
        await Task.WhenAll(pool.SendAsync(Mail("b1"), default), pool.SendAsync(Mail("b2"), default));
        await pool.SendAsync(Mail("b3"), default);
        Assert.True(took.Elapsed < TimeSpan.FromSeconds(5), $"the first mails after the restart took {took.Elapsed}");
        var arrived = ArrivedByMessageId();
        Assert.Equal(["a1", "a2", "b1", "b2", "b3"], arrived.Keys.Select(k => k[..k.IndexOf('@')]).Order());
        Assert.All(arrived.Values, n => Assert.Equal(1, n));
    }

    Dictionary<string, int> ArrivedByMessageId() => Directory.GetFiles(Path.Combine(Maildir, "new"))
        .Select(f => File.ReadLines(f).First(l => l.StartsWith("Message-Id:", StringComparison.OrdinalIgnoreCase))[11..].Trim().Trim('<', '>'))
        .GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public async Task Mail_that_falls_due_while_SMTP_is_down_waits_and_arrives_exactly_once_when_it_is_back()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?>
        {
            ["Rules:Path"] = _folder,
            ["Email:From"] = "Shop <orders@shop.example>",
            ["Email:Smtp:Port"] = _port.ToString(),
            ["Email:Smtp:RetryAfter"] = "00:00:02",
            ["Email:Smtp:PauseOnOutage"] = "00:00:02",
            ["Email:Smtp:Timeout"] = "00:00:03",
        });
        await using var shop = await worker.ShopAsync();
        var run = Guid.NewGuid().ToString("N")[..6];
        var customers = Enumerable.Range(0, 20).Select(i => $"outage-{run}-{i}").ToList();
        async Task OrderAsync(string customer) => await shop.PublishAsync(Events.Json("order_placed", Events.Id("order"), DateTimeOffset.UtcNow.AddSeconds(-1), customer,
            traits: new { email = customer + "@example.com" }, properties: new { orderId = "o-" + customer, total = 10, currency = "EUR" }));
        async Task<JsonObject> ActionAsync(string customer, Func<JsonObject, bool> until) =>
            (JsonObject)(await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Any(a => until(a!.AsObject()))))["actions"]![0]!;

        foreach (var c in customers.Take(5))
            await OrderAsync(c);
        foreach (var c in customers.Take(5))
            await ActionAsync(c, a => (string?)a["status"] == "delivered");

        StopSink();                                                                          // SMTP goes away
        foreach (var c in customers.Skip(5))
            await OrderAsync(c);
        var waiting = await ActionAsync(customers[^1], a => a["log"]!.AsArray().Any(l => (string?)l!["outcome"] == "deferred"));
        Assert.Equal("pending", (string?)waiting["status"]);
        Assert.Contains("SMTP", (string?)waiting["log"]!.AsArray().First(l => (string?)l!["outcome"] == "deferred")!["reason"]);

        await StartSinkAsync();                                                              // and comes back
        var ids = new List<string>();
        foreach (var c in customers)
            ids.Add((string)(await ActionAsync(c, a => (string?)a["status"] == "delivered"))["actionId"]! + "@shop.example");

        var arrived = ArrivedByMessageId();
        Assert.Equal(ids.Order(), arrived.Keys.Order());
        Assert.All(arrived, a => Assert.Equal(1, a.Value));                                 // every mail exactly once
    }
}
