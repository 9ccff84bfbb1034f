using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Channels.Email;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Email through a real SMTP server on loopback (aiosmtpd writing a Maildir): what arrives is read back and checked as a
/// customer's mail program would show it: sender, recipient, subject, both parts, escaping, locale, Message-ID.
/// </summary>
public sealed class EmailChannelTests : IAsyncLifetime
{
    string _connectionString = "";
    Database _database = null!;
    JourneyStore _store = null!;
    readonly EmailTemplates _templates = EmailTemplates.Load(Path.Combine(TestServers.RepositoryRoot, "templates"), "en");

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabases.CreateMigratedAsync(StorageProvider.Sqlite);
        _database = new Database(StorageProvider.Sqlite, _connectionString);
        var rules = new ActiveRules(new CompiledRules(RulesParser.Parse("campaigns: []", "none.yaml"), "v1"), DateTimeOffset.UtcNow);
        _store = JourneyStore.Create(_database, rules, TimeProvider.System, NullLogger<JourneyStore>.Instance);
    }

    public Task DisposeAsync()
    {
        _database.Dispose();
        return TestDatabases.DropAsync(StorageProvider.Sqlite, _connectionString);
    }

    EmailChannel Channel(int? port = null)
    {
        var options = new EmailOptions
        {
            From = "Shop <news@shop.example>",
            Smtp = { Host = "127.0.0.1", Port = port ?? TestServers.SmtpPort, PoolSize = 2, Timeout = TimeSpan.FromSeconds(5) },
        };
        return new(_database, _templates, Options.Create(options), TimeProvider.System,
            Infrastructure.Channels.ChannelPipelines.Standalone(TimeProvider.System, options));
    }

    /// <summary>A customer with traits and an abandoned cart on the timeline; the step that mails them.</summary>
    async Task<DueAction> CustomerWithCartAsync(string locale, string template = "cart-reminder", JsonObject? settings = null)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var traits = new JsonObject { ["email"] = $"anna.{id}@example.com", ["firstName"] = "<Anna & Co>", ["locale"] = locale };
        var cart = new JsonObject
        {
            ["cartId"] = "cart-" + id, ["cartValue"] = 59.90m,
            ["items"] = new JsonArray(new JsonObject { ["sku"] = "sku-1", ["name"] = "Rain jacket <XL>", ["quantity"] = 1 },
                new JsonObject { ["sku"] = "sku-2", ["name"] = "Wool socks", ["quantity"] = 2 }),
        };
        var eventId = "cart-evt-" + id;
        await _store.ApplyAsync([new AcceptedEvent(eventId, "cart_abandoned", DateTimeOffset.UtcNow.AddHours(-1), "anna-" + id, null, traits, cart, null)], default);
        settings ??= new JsonObject { ["template"] = template };
        return new DueAction("act-" + id, "cart-recovery", 1, "c:anna-" + id, "anna-" + id, "email", settings, 0, eventId, "cart-" + id, false,
            DateTimeOffset.UtcNow, "v1", "purchase", 42);
    }

    /// <summary>The message with this Message-ID from the sink's Maildir, waiting up to 10 s for it.</summary>
    static async Task<MimeMessage> ArrivedAsync(string messageId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var file in Directory.Exists(Path.Combine(TestServers.Maildir, "new")) ? Directory.GetFiles(Path.Combine(TestServers.Maildir, "new")) : [])
            {
                if (!File.ReadAllText(file).Contains(messageId, StringComparison.Ordinal))
                    continue;
                return await MimeMessage.LoadAsync(file);
            }
            await Task.Delay(100);
        }
        Assert.Fail($"no mail with Message-ID {messageId} arrived in {TestServers.Maildir} within 10 s");
        return null!;
    }

    [Fact]
    public async Task A_cart_reminder_arrives_in_the_customers_language_with_both_parts_escaped_and_its_action_as_Message_ID()
    {
        TestServers.RequireSmtp();
        var action = await CustomerWithCartAsync("nl-NL");
        var result = await Channel().DeliverAsync(action, default);
        Assert.True(result.Delivered, result.Detail);
        Assert.Contains("cart-reminder/nl", result.Detail);

        var mail = await ArrivedAsync(action.ActionId + "@shop.example");
        Assert.Equal(action.ActionId + "@shop.example", mail.MessageId);
        Assert.Equal("news@shop.example", mail.From.Mailboxes.Single().Address);
        Assert.Equal($"{action.CustomerId!.Replace("anna-", "anna.")}@example.com", mail.To.Mailboxes.Single().Address);
        Assert.Equal("<Anna & Co>, je winkelmand wacht op je", mail.Subject);
        Assert.Equal(action.ActionId, mail.Headers["X-Campaign-Action-Id"]);
        Assert.Contains("&lt;Anna &amp; Co&gt;", mail.HtmlBody);                           // escaped in HTML
        Assert.DoesNotContain("<Anna", mail.HtmlBody);
        Assert.Contains("Rain jacket &lt;XL&gt;", mail.HtmlBody);
        Assert.Contains("Hoi <Anna & Co>,", mail.TextBody);                               // as written in plain text
        Assert.Contains("2 x Wool socks", mail.TextBody);
        Assert.Contains("Totaal: 59.90", mail.TextBody);
    }

    [Fact]
    public async Task A_hostile_cart_renders_a_bounded_mail_a_huge_number_renders_and_a_name_with_line_breaks_injects_no_header()
    {
        TestServers.RequireSmtp();
        var id = Guid.NewGuid().ToString("N")[..8];
        // Stored as a worker before the inbound bounds would have stored them: a trait beyond decimal, CR/LF in the name.
        var traits = new JsonObject { ["email"] = $"big.{id}@example.com", ["firstName"] = "Eve\r\nBcc: victim@example.com", ["score"] = JsonNode.Parse("1e30"), ["locale"] = "en" };
        var items = new JsonArray(Enumerable.Range(0, 100_000).Select(i => (JsonNode?)new JsonObject { ["sku"] = $"s{i}", ["name"] = $"item {i}" }).ToArray());
        var cart = new JsonObject { ["cartId"] = "cart-" + id, ["cartValue"] = 10, ["items"] = items };
        var eventId = "cart-evt-" + id;
        await _store.ApplyAsync([new AcceptedEvent(eventId, "cart_abandoned", DateTimeOffset.UtcNow.AddHours(-1), "big-" + id, null, traits, cart, null)], default);
        var action = new DueAction("act-" + id, "cart-recovery", 1, "c:big-" + id, "big-" + id, "email", new JsonObject { ["template"] = "cart-reminder" }, 0, eventId,
            "cart-" + id, false, DateTimeOffset.UtcNow, "v1", "purchase", 43);

        var result = await Channel().DeliverAsync(action, default);
        Assert.True(result.Delivered, result.Detail);
        var mail = await ArrivedAsync(action.ActionId + "@shop.example");
        Assert.Equal(EmailChannel.MaxListItems, System.Text.RegularExpressions.Regex.Matches(mail.HtmlBody ?? "", "<li>").Count);
        Assert.Contains("item 99", mail.TextBody);
        Assert.DoesNotContain("item 100\n", mail.TextBody);
        Assert.Empty(mail.Bcc);
        Assert.DoesNotContain("victim", string.Join("\n", mail.Headers.Where(h => h.Field != "Subject").Select(h => h.Value)));
        Assert.DoesNotContain('\n', mail.Subject ?? "");
    }

    [Fact]
    public async Task A_step_with_its_own_from_and_replyTo_sends_from_them()
    {
        TestServers.RequireSmtp();
        var action = await CustomerWithCartAsync("en", settings: new JsonObject
        {
            ["template"] = "cart-reminder", ["from"] = "Outdoor Team <outdoor@shop.example>", ["replyTo"] = "care@shop.example",
        });
        var result = await Channel().DeliverAsync(action, default);
        Assert.True(result.Delivered, result.Detail);
        var mail = await ArrivedAsync(action.ActionId + "@shop.example");
        var from = mail.From.Mailboxes.Single();
        Assert.Equal(("Outdoor Team", "outdoor@shop.example"), (from.Name, from.Address));
        Assert.Equal("care@shop.example", mail.ReplyTo.Mailboxes.Single().Address);

        // Without them: Email:From and no Reply-To.
        var plain = await CustomerWithCartAsync("en");
        Assert.True((await Channel().DeliverAsync(plain, default)).Delivered);
        var plainMail = await ArrivedAsync(plain.ActionId + "@shop.example");
        Assert.Equal("news@shop.example", plainMail.From.Mailboxes.Single().Address);
        Assert.Empty(plainMail.ReplyTo);
    }

    [Fact]
    public async Task A_locale_without_its_own_variant_falls_back_to_the_default()
    {
        TestServers.RequireSmtp();
        var action = await CustomerWithCartAsync("fr-FR");
        var result = await Channel().DeliverAsync(action, default);
        Assert.True(result.Delivered, result.Detail);
        Assert.Equal("<Anna & Co>, your cart is waiting", (await ArrivedAsync(action.ActionId + "@shop.example")).Subject);
    }

    [Fact]
    public async Task An_offer_with_a_template_mails_its_code_and_the_same_action_gets_the_same_code()
    {
        TestServers.RequireSmtp();
        var action = await CustomerWithCartAsync("en", settings: new JsonObject { ["discountPercent"] = "10", ["validFor"] = "72h", ["template"] = "cart-offer" });
        action = action with { Kind = "offer" };
        var offers = new OfferChannel(_database, TimeProvider.System, Channel());
        var result = await offers.DeliverAsync(action, default);
        Assert.True(result.Delivered, result.Detail);
        var code = result.Detail!.Split(' ')[1].TrimEnd(';');
        var mail = await ArrivedAsync(action.ActionId + "@shop.example");
        Assert.Equal("10% off what is in your cart", mail.Subject);
        Assert.Contains($"Use code {code} for 10% off", mail.TextBody);
        Assert.Contains($"<strong>{code}</strong>", mail.HtmlBody);
        Assert.StartsWith("code " + code, (await offers.DeliverAsync(action, default)).Detail);   // fired again: the same code

        // Recorded: the code, and both events (the offer and the mail that carried it).
        await using (var connection = await _database.OpenAsync(default))
        {
            await using var tx = await connection.BeginTransactionAsync();
            await StoredRows.WriteAsync(connection, tx, _database.Dialect, result.Rows, default);
            await Infrastructure.Messaging.Outbox.AppendAsync(connection, tx, _database.Dialect, result.Events, default);
            await tx.CommitAsync();
            Assert.Equal(code, await Dapper.SqlMapper.QuerySingleAsync<string>(connection, "SELECT code FROM offers WHERE action_id = @ActionId", new { action.ActionId }));
            Assert.Equal(["email.sent", "offer.issued"], (await Dapper.SqlMapper.QueryAsync<string>(connection,
                "SELECT routing_key FROM outbox WHERE message_id LIKE '%' || @ActionId ORDER BY routing_key", new { action.ActionId })).ToList());
        }
    }

    [Fact]
    public async Task Mail_for_a_server_that_cannot_be_reached_waits_instead_of_failing()
    {
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var action = await CustomerWithCartAsync("en");
        var before = DateTimeOffset.UtcNow;
        var result = await Channel(port).DeliverAsync(action, default);
        Assert.False(result.Delivered);
        Assert.True(result.RetryAt > before, result.Detail);
        Assert.Contains("SMTP unavailable", result.Detail);
    }

    /// <summary>An SMTP server (aiosmtpd) that refuses recipients starting with "bounce" for good (550) and those starting with
    /// "busy" for now (451), and accepts the rest.</summary>
    static async Task<(System.Diagnostics.Process Server, int Port)> RefusingServerAsync()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var script = $$"""
            import time
            from aiosmtpd.controller import Controller
            class Handler:
                async def handle_RCPT(self, server, session, envelope, address, options):
                    if address.startswith('bounce'):
                        return '550 5.1.1 <' + address.upper() + '>: Recipient address rejected: No such user here'
                    if address.startswith('busy'):
                        return '451 4.3.0 ' + address + ' try again later'
                    envelope.rcpt_tos.append(address)
                    return '250 OK'
                async def handle_DATA(self, server, session, envelope):
                    return '250 Message accepted'
            Controller(Handler(), hostname='127.0.0.1', port={{port}}).start()
            while True:
                time.sleep(3600)
            """;
        var server = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", ["-c", script]) { RedirectStandardError = true })!;
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return (server, port);
            }
            catch (SocketException)
            {
                if (server.HasExited)
                    Assert.Fail("the refusing SMTP server did not start: " + await server.StandardError.ReadToEndAsync());
                await Task.Delay(100);
            }
        }
        Assert.Fail("the refusing SMTP server did not listen");
        return default;
    }

    async Task<DueAction> ActionFor(string address, bool transactional = false)
    {
        var action = await CustomerWithCartAsync("en");
        await using var connection = await _database.OpenAsync(default);
        await Dapper.SqlMapper.ExecuteAsync(connection, "UPDATE profiles SET traits = json_set(traits, '$.email', @address) WHERE profile_id = @p",
            new { address, p = action.ProfileId });
        return action with { Transactional = transactional };
    }

    [Fact]
    public async Task A_hard_bounce_fails_the_mail_and_suppresses_the_address_for_every_later_mail()
    {
        var (server, port) = await RefusingServerAsync();
        try
        {
            var address = $"bounce-{Guid.NewGuid():N}@example.com";
            var first = await Channel(port).DeliverAsync(await ActionFor(address), default);
            Assert.False(first.Delivered);
            Assert.Null(first.RetryAt);                                                  // for good, not retried
            Assert.Contains("550", first.Detail);
            // The server's reply quotes the address (in capitals): neither the reason nor the email.failed event carries it.
            Assert.Contains("<<address>>: Recipient address rejected", first.Detail);
            var failed = Assert.IsType<Contracts.Outbound.EmailFailed>(Assert.Single(first.Events));
            Assert.DoesNotContain(address, failed.Reason, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("example.com", first.Detail, StringComparison.OrdinalIgnoreCase);
            await using (var connection = await _database.OpenAsync(default))
                Assert.DoesNotContain("example.com", await Dapper.SqlMapper.QuerySingleAsync<string>(connection, "SELECT detail FROM email_suppressions WHERE reason = 'hard-bounce'"),
                    StringComparison.OrdinalIgnoreCase);

            var receipt = await Channel(port).DeliverAsync(await ActionFor(address, transactional: true), default);
            Assert.True(receipt.Suppressed);                                             // not even an order confirmation
            Assert.Contains("hard-bounced", receipt.Detail);

            var busy = await Channel(port).DeliverAsync(await ActionFor($"busy-{Guid.NewGuid():N}@example.com"), default);
            Assert.False(busy.Delivered);
            Assert.NotNull(busy.RetryAt);                                                // 451: retried, then it waits
            Assert.DoesNotContain("example.com", busy.Detail, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.Dispose();
        }
    }

    [Fact]
    public void A_template_that_does_not_parse_is_refused_at_load_with_its_file_and_line()
    {
        var folder = Directory.CreateTempSubdirectory("co-templates-").FullName;
        try
        {
            var en = Directory.CreateDirectory(Path.Combine(folder, "broken", "en")).FullName;
            File.WriteAllText(Path.Combine(en, "subject.liquid"), "Hi");
            File.WriteAllText(Path.Combine(en, "text.liquid"), "Hi");
            File.WriteAllText(Path.Combine(en, "html.liquid"), "<p>Hi</p>\n<p>{% if customer.firstName %}{{ customer.firstName }}</p>\n");
            Directory.CreateDirectory(Path.Combine(folder, "nl-only", "nl"));
            var ex = Assert.Throws<EmailTemplatesRejectedException>(() => EmailTemplates.Load(folder, "en"));
            var error = Assert.Single(ex.Errors, e => e.Contains("broken") && e.Contains("html.liquid"));
            Assert.Contains(Path.Combine(en, "html.liquid"), error);
            Assert.Matches(@"\(2:\d+\)|line 2|2:\d+", error);
            Assert.Contains(ex.Errors, e => e.Contains("nl-only") && e.Contains("no en variant"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
