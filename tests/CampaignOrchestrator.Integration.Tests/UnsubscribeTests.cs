using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;
using MimeKit;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Marketing email end to end in the running worker, through RabbitMQ and the real SMTP sink: it carries a one-click
/// unsubscribe (RFC 8058); using it withdraws consent and suppresses the address, so the next marketing mail is not sent,
/// while an order confirmation still is; a link that was altered does nothing.
/// </summary>
public sealed class UnsubscribeTests : IDisposable
{
    readonly RulesFolder _rules = new("mail.yaml", """
        campaigns:
          - id: newsletter-welcome
            trigger: { event: newsletter_signup }
            reentry: { after: 1m }
            steps:
              - action: { kind: email, template: we-miss-you }
          - id: order-confirmation
            trigger: { event: order_placed }
            transactional: true
            steps:
              - action: { kind: email, template: order-confirmation }
        """);

    public void Dispose() => _rules.Dispose();

    static async Task<MimeMessage> ArrivedAsync(string messageId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var folder = Path.Combine(TestServers.Maildir, "new");
        while (DateTime.UtcNow < deadline)
        {
            foreach (var file in Directory.Exists(folder) ? Directory.GetFiles(folder) : [])
                if (File.ReadAllText(file).Contains(messageId, StringComparison.Ordinal))
                    return await MimeMessage.LoadAsync(file);
            await Task.Delay(100);
        }
        Assert.Fail($"no mail with Message-ID {messageId} in {folder} within 15 s");
        return null!;
    }

    [Fact]
    public async Task One_click_unsubscribe_stops_marketing_email_but_not_the_order_confirmation()
    {
        TestServers.RequireSmtp();
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: TestWorker.Mailing(_rules.Path));
        await using var shop = await worker.ShopAsync();
        var customer = "unsub-" + Guid.NewGuid().ToString("N")[..8];
        var t = DateTimeOffset.UtcNow.AddMinutes(-10);
        await shop.PublishAsync(Events.Json("newsletter_signup", Events.Id("signup"), t, customer,
            traits: new { email = $"{customer}@example.com", emailConsent = true, firstName = "Ida" }));
        var journey = await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Any(a => (string?)a!["status"] == "delivered"));
        var actionId = (string)journey["actions"]![0]!["actionId"]!;

        var mail = await ArrivedAsync(actionId + "@shop.example");
        Assert.Equal("List-Unsubscribe=One-Click", mail.Headers["List-Unsubscribe-Post"]);
        var link = new Uri(mail.Headers["List-Unsubscribe"]!.Trim('<', '>'));
        Assert.Contains(link.ToString(), mail.TextBody);                                  // and for people, in the mail itself
        var path = link.PathAndQuery;

        var page = await worker.Http.GetAsync(path);                                       // opening the link changes nothing yet
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<form method=\"post\"", await page.Content.ReadAsStringAsync());
        Assert.Contains("u*******", await page.Content.ReadAsStringAsync());               // the address, masked

        var altered = path[..^3] + (path[^3] == 'A' ? "B" : "A") + path[^2..];
        Assert.Equal(HttpStatusCode.BadRequest, (await worker.Http.PostAsync(altered, new StringContent("List-Unsubscribe=One-Click"))).StatusCode);

        var oneClick = new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]);
        Assert.Equal(HttpStatusCode.OK, (await worker.Http.PostAsync(path, oneClick)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await worker.Http.PostAsync(path, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]))).StatusCode);
        journey = await worker.WaitForCustomerAsync(customer, j => j["traits"]?["emailConsent"]?.GetValue<bool>() == false);
        Assert.Single(journey["timeline"]!.AsArray(), e => (string?)e!["type"] == "unsubscribed");   // clicked twice, recorded once

        // The next marketing mail is not sent; the order confirmation is.
        await shop.PublishAsync(Events.Json("newsletter_signup", Events.Id("signup-again"), t.AddMinutes(5), customer));
        await shop.PublishAsync(Events.Json("order_placed", Events.Id("order"), t.AddMinutes(6), customer, properties: new { orderId = "o-77", total = 20, currency = "EUR" }));
        journey = await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Count(a => (string?)a!["status"] is "delivered" or "suppressed") == 3);
        var actions = journey["actions"]!.AsArray().Select(a => a!.AsObject()).ToList();
        var again = Assert.Single(actions, a => (string?)a["campaignId"] == "newsletter-welcome" && (string?)a["status"] == "suppressed");
        Assert.Contains("consent", (string?)again["reason"]);
        var confirmation = Assert.Single(actions, a => (string?)a["campaignId"] == "order-confirmation");
        Assert.Equal("delivered", (string?)confirmation["status"]);
        var receipt = await ArrivedAsync((string)confirmation["actionId"]! + "@shop.example");
        Assert.Equal("Order o-77 confirmed", receipt.Subject);
        Assert.Null(receipt.Headers["List-Unsubscribe"]);                                   // transactional: no unsubscribe
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_link_is_opaque_the_page_speaks_dutch_consent_given_back_counts_and_an_erased_customers_link_creates_nobody(Db db)
    {
        TestServers.RequireSmtp();
        await using var worker = await TestWorker.StartAsync(db, extra: TestWorker.Mailing(_rules.Path));
        await using var shop = await worker.ShopAsync();
        var customer = "unsub-nl-" + Guid.NewGuid().ToString("N")[..8];
        var address = $"{customer}@example.com";
        var t = DateTimeOffset.UtcNow.AddMinutes(-10);
        await shop.PublishAsync(Events.Json("newsletter_signup", Events.Id("signup"), t, customer,
            traits: new { email = address, emailConsent = true, firstName = "Sanne", locale = "nl-NL" }));
        var journey = await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Any(a => (string?)a!["status"] == "delivered"));
        var mail = await ArrivedAsync((string)journey["actions"]![0]!["actionId"]! + "@shop.example");
        var link = new Uri(mail.Headers["List-Unsubscribe"]!.Trim('<', '>'));

        // Opaque: neither the id nor the address, nor their base64, can be read from it.
        var token = System.Web.HttpUtility.ParseQueryString(link.Query)["token"]!;
        Assert.DoesNotContain(customer, link.ToString());
        var raw = Convert.FromBase64String(token[2..].Replace('-', '+').Replace('_', '/').PadRight(token.Length - 2 + (4 - (token.Length - 2) % 4) % 4, '='));
        Assert.DoesNotContain("example.com", System.Text.Encoding.Latin1.GetString(raw));
        Assert.DoesNotContain(customer, System.Text.Encoding.Latin1.GetString(raw));

        var page = await worker.Anonymous.GetAsync(link.PathAndQuery);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<html lang=\"nl\">", html);
        Assert.Contains("Geen marketingmail meer naar u", html);
        Assert.Contains(">Afmelden</button>", html);
        Assert.Equal("no-referrer", page.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.True(page.Headers.CacheControl?.NoStore);
        var done = await worker.Anonymous.PostAsync(link.PathAndQuery, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.Contains("U bent afgemeld", await done.Content.ReadAsStringAsync());
        await worker.WaitForCustomerAsync(customer, j => j["traits"]?["emailConsent"]?.GetValue<bool>() == false);

        // Consent given back later: the unsubscribe no longer holds the next marketing mail.
        await shop.PublishAsync(Events.Json("consent_changed", Events.Id("consent"), DateTimeOffset.UtcNow, customer, traits: new { emailConsent = true }));
        await worker.WaitForCustomerAsync(customer, j => j["traits"]?["emailConsent"]?.GetValue<bool>() == true);
        await shop.PublishAsync(Events.Json("newsletter_signup", Events.Id("signup-again"), DateTimeOffset.UtcNow, customer));
        journey = await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Count(a => (string?)a!["status"] is "delivered" or "suppressed") == 2);
        var second = journey["actions"]!.AsArray().Select(a => a!.AsObject()).OrderBy(a => (string?)a["triggeredAt"]).Last();
        Assert.True((string?)second["status"] == "delivered", second.ToJsonString());
        var api = await worker.Http.GetAsync($"/api/customers/{customer}");
        Assert.True(api.Headers.CacheControl?.NoStore);

        // Erased: the old link still suppresses (the address already is), and makes nobody again.
        Assert.Equal(HttpStatusCode.OK, (await worker.Http.DeleteAsync($"/api/customers/{customer}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await worker.Anonymous.PostAsync(link.PathAndQuery, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Http.GetAsync($"/api/customers/{customer}")).StatusCode);
    }
}
