using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// The dashboard in real headless Chromium (Debian's, by its path; infra/test.sh installs it): a signed-out visit goes to
/// the sign-in page, a wrong key is refused, a key signs in, the funnel is drawn (its screenshot kept with the test output),
/// a customer is found with their timeline, a webshop's injected trait stays text, a pending action is cancelled, a change
/// without the CSRF token is refused, and signing out ends the session.
/// </summary>
[Collection(nameof(BrowserCollection))]
public sealed class DashboardBrowserTests(ITestOutputHelper output) : IDisposable
{
    const string Chromium = "/usr/bin/chromium";
    const string Injected = "<img src=x onerror=alert(1)>";

    readonly RulesFolder _rules = new("campaigns.yaml", TestRules.CartRecoveryBannerThenEmail);

    public void Dispose() => _rules.Dispose();

    [Fact]
    public async Task A_marketer_signs_in_sees_the_funnel_finds_a_customer_and_cancels_a_pending_action()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: the browser tests need Debian's chromium (infra/services.sh browser installs it)");
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?>
        {
            ["Rules:Path"] = _rules.Path, ["Funnel:RefreshInterval"] = "00:00:00.2",
        });
        await using var shop = await worker.ShopAsync();
        var t = DateTimeOffset.UtcNow.AddHours(-2);
        await shop.PublishAsync(Events.Json("page_viewed", "ui-1", t, "ui-anna", traits: new { nickname = Injected, persona = "runner" }));
        await shop.PublishAsync(Events.Json("product_viewed", "ui-2", t.AddMinutes(5), "ui-anna"));
        await shop.PublishAsync(Events.Json("cart_abandoned", "ui-3", t.AddMinutes(10), "ui-anna", properties: new { cartId = "cart-ui", cartValue = 60 }));
        await worker.WaitForCustomerAsync("ui-anna", j => j["actions"]!.AsArray().Any(a => (string?)a!["status"] == "pending"));
        var baseUrl = worker.Http.BaseAddress!.ToString().TrimEnd('/');

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        // Generous: on CI's two cores the browser shares them with the worker, RabbitMQ and PostgreSQL.
        context.SetDefaultTimeout(60_000);
        context.SetDefaultNavigationTimeout(60_000);
        var page = await context.NewPageAsync();
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) => { dialogs.Add(dialog.Message); _ = dialog.DismissAsync(); };

        // Signed out: the dashboard sends the visitor to the sign-in page; a wrong key is refused there.
        await page.GotoAsync(baseUrl + "/");
        Assert.EndsWith("/sign-in", page.Url);
        await page.FillAsync("#key", "co_not-a-key");
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync("**/sign-in?error=key");
        Assert.Equal("That key matches no configured key.", await page.TextContentAsync("#error"));

        // Signing in with the marketer's key: the session cookie is HttpOnly and SameSite=Strict.
        await page.FillAsync("#key", TestKeys.Marketer);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(baseUrl + "/");
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "co_session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("marketer-key (marketer)", await page.TextContentAsync("#who"));

        // The funnel drawn: the counting job has the customer (reached purchase), the SVG chart loaded.
        for (var i = 0; i < 50 && await page.TextContentAsync("#funnel-table tbody tr:nth-child(3) td:nth-child(2)") != "1"; i++)
        {
            await Task.Delay(200);
            await page.ClickAsync("#funnel-form button[type=submit]");
        }
        Assert.Equal(["awareness", "consideration", "purchase", "retention", "loyalty"],
            await page.Locator("#funnel-table tbody td:first-child").AllTextContentsAsync());
        Assert.Equal("1", await page.TextContentAsync("#funnel-table tbody tr:nth-child(3) td:nth-child(2)"));
        await page.WaitForSelectorAsync("body[data-funnel-drawn=true]");
        var chart = await page.EvaluateAsync<int>("document.getElementById('funnel-svg').naturalWidth");
        Assert.True(chart > 0, "the funnel chart did not load");
        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "dashboard-funnel.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        output.WriteLine($"funnel screenshot: {screenshot}");
        // On a phone's width the page does not scroll sideways (wide tables scroll within themselves).
        await page.SetViewportSizeAsync(390, 844);
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= 391"), "the dashboard is wider than a phone's screen");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetDirectoryName(screenshot)!, "dashboard-funnel-phone.png"), FullPage = true });
        await page.SetViewportSizeAsync(1280, 900);

        // A customer found: their timeline shown, and the webshop's trait shown as the text it is.
        await page.ClickAsync("a[href='#customers']");
        await page.FillAsync("#customer-form input[name=id]", "ui-anna");
        await page.ClickAsync("#customer-form button[type=submit]");
        await page.WaitForSelectorAsync("#customer-timeline tbody tr");
        Assert.Equal(["page_viewed", "product_viewed", "cart_abandoned"], await page.Locator("#customer-timeline tbody td:nth-child(2)").AllTextContentsAsync());
        Assert.Contains(Injected, await page.Locator("#customer-traits dd").AllTextContentsAsync());
        Assert.Equal(0, await page.Locator("#customer img, #customer-traits img").CountAsync());
        Assert.Equal("purchase", await page.TextContentAsync("#customer-facts dd"));

        // Why: the explanation of the campaign for this customer, on the customer page.
        await page.ClickAsync("#explain-form button[type=submit]");
        await page.WaitForSelectorAsync("#explain p");
        Assert.Contains("started", await page.TextContentAsync("#explain"));

        // A pending action cancelled (the email due in two days).
        await page.ClickAsync("a[href='#pending']");
        await page.WaitForSelectorAsync("#pending-form select option[value='cart-recovery']", new() { State = WaitForSelectorState.Attached });
        await page.SelectOptionAsync("#pending-form select", "cart-recovery");
        await page.ClickAsync("#pending-form button[type=submit]");
        await page.ClickAsync("#pending-table button[data-action]");
        await page.WaitForSelectorAsync("#status:has-text('Cancelled')");
        var journey = await worker.Http.GetFromJsonAsync<JsonObject>("/api/customers/ui-anna");
        var email = journey!["actions"]!.AsArray().Single(a => (string?)a!["kind"] == "email")!;
        Assert.Equal("cancelled", (string?)email["status"]);
        Assert.StartsWith("operator:", (string?)email["reason"]);

        // A rules change previewed from the rules page: a threshold of 100 would leave the cart of 60 out.
        await page.ClickAsync("a[href='#rules']");
        await page.SetInputFilesAsync("#rules-form input[type=file]", new FilePayload
        {
            Name = "proposal.yaml", MimeType = "application/yaml",
            Buffer = System.Text.Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(_rules.Path, "campaigns.yaml"))
                .Replace("exitOn: [order_placed]", "exitOn: [order_placed]\n    conditions: { field: properties.cartValue, op: gte, value: 100 }", StringComparison.Ordinal)),
        });
        await page.ClickAsync("#preview-button");
        await page.WaitForSelectorAsync("#preview-table tbody tr");
        var preview = await page.Locator("#preview-table tbody tr").First.Locator("td").AllTextContentsAsync();
        Assert.Equal("cart-recovery", preview[0]);
        Assert.Equal("1: ui-anna", preview[4]);
        Assert.Equal(1, await page.EvaluateAsync<double>("document.getElementById('preview-progress').value"));

        // A state change with the session but without the CSRF token is refused.
        var status = await page.EvaluateAsync<int>("fetch('/api/campaigns/cart-recovery/cancel', { method: 'POST' }).then(r => r.status)");
        Assert.Equal((int)HttpStatusCode.BadRequest, status);

        Assert.Empty(dialogs);

        // Signed out: the session ends, the dashboard sends the visitor to sign in again, the API answers 401.
        await page.ClickAsync("#sign-out");
        await page.WaitForURLAsync("**/sign-in");
        await page.GotoAsync(baseUrl + "/");
        Assert.EndsWith("/sign-in", page.Url);
        Assert.Equal(401, await page.EvaluateAsync<int>("fetch('/api/funnel').then(r => r.status)"));
    }

    const string WideRules = """
        campaigns:
          - id: cart-recovery-with-a-rather-long-campaign-identifier-for-the-layout
            description: Win back shoppers who left a full cart, with a reminder, a banner and an offer
            trigger: { event: cart_abandoned }
            key: properties.cartId
            reentry: { after: 1s }
            holdout: 10%
            steps:
              - variants:
                  - { weight: 50, action: { kind: banner, slot: home-hero, creative: come-back-and-finish-your-order-today } }
                  - { weight: 50, action: { kind: banner, slot: home-hero, creative: your-cart-misses-you-free-shipping } }
              - delay: 2d
                action: { kind: email, template: cart-reminder }
              - delay: 3d
                action: { kind: email, template: cart-offer }
          - id: browse-banner
            trigger: { event: product_viewed }
            steps:
              - action: { kind: banner, slot: sidebar, creative: seen-something-you-like }
              - delay: 1d
                action: { kind: email, template: we-miss-you }
        """;

    /// <summary>Every table of the shown view fits its page, and the page fits the window; a screenshot is kept.</summary>
    async Task AssertFits(IPage page, string view)
    {
        var wide = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('section:not([hidden]) table:not([hidden])')]
              .filter(t => t.offsetParent !== null && (t.scrollWidth > t.clientWidth + 1 || t.getBoundingClientRect().right > window.innerWidth + 1))
              .map(t => `${t.id}: ${t.scrollWidth} px in ${t.clientWidth} px, right edge ${Math.round(t.getBoundingClientRect().right)}`)
            """);
        Assert.True(wide.Length == 0, $"{view}: {string.Join("; ", wide)}");
        var pageWidth = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(pageWidth <= 1280, $"{view}: the page is {pageWidth} px wide");
        var file = Path.Combine(AppContext.BaseDirectory, "screenshots", $"dashboard-{view}-1280.png");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await page.ScreenshotAsync(new() { Path = file, FullPage = true });
        output.WriteLine($"{view} at 1280 px: {file}");
    }

    [Fact]
    public async Task At_1280_px_every_table_fits_and_a_marketer_applies_and_rolls_back_rules_from_the_rules_page()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: the browser tests need Debian's chromium (infra/services.sh browser installs it)");
        using var wideRules = new RulesFolder("campaigns.yaml", WideRules);
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?>
        {
            ["Rules:Path"] = wideRules.Path, ["Rules:Watch"] = "false", ["Funnel:RefreshInterval"] = "00:00:00.2",
        });
        await using var shop = await worker.ShopAsync();
        var t = DateTimeOffset.UtcNow.AddHours(-2);
        for (var i = 0; i < 6; i++)
        {
            await shop.PublishAsync(Events.Json("product_viewed", $"wide-v-{i}", t.AddMinutes(i), "wide-customer-with-a-long-identifier-0001", properties: new { productId = $"p-{i}" }));
            await shop.PublishAsync(Events.Json("cart_abandoned", $"wide-c-{i}", t.AddMinutes(10 + i), "wide-customer-with-a-long-identifier-0001",
                properties: new { cartId = $"cart-{i}", cartValue = 60 + i }));
        }
        for (var i = 2; i < 12; i++)   // other customers, so both variants have some
            await shop.PublishAsync(Events.Json("cart_abandoned", $"wide-o-{i}", t.AddMinutes(20), $"wide-other-{i}", properties: new { cartId = $"cart-o-{i}", cartValue = 70 }));
        // A message the contract refuses, long enough to test the rejected-messages table.
        await shop.PublishAsync("{\"eventId\":\"wide-bad\",\"type\":\"Not A Type\",\"note\":\"" + new string('x', 3000) + "\"}", messageId: "wide-rejected-message");
        await worker.WaitForCustomerAsync("wide-customer-with-a-long-identifier-0001", j => j["actions"]!.AsArray().Count >= 12);
        var baseUrl = worker.Http.BaseAddress!.ToString().TrimEnd('/');

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(baseUrl + "/sign-in");
        await page.FillAsync("#key", TestKeys.Admin);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(baseUrl + "/");

        await page.WaitForSelectorAsync("#funnel-table tbody tr");
        await AssertFits(page, "funnel");

        await page.ClickAsync("a[href='#campaigns']");
        await page.WaitForSelectorAsync("#campaigns-table tbody tr:first-child td:nth-child(8):not(:empty)");
        Assert.Equal("on cart_abandoned", await page.TextContentAsync("#campaigns-table tbody tr:first-child td:nth-child(2)"));   // not a record dump
        await page.ClickAsync("#campaigns-table tbody tr:first-child a");
        await page.WaitForSelectorAsync("#campaign-steps tbody tr");
        await page.WaitForSelectorAsync("#campaign-variants:not([hidden]) tbody tr");
        await page.FillAsync("#campaigns-form input[name=from]", DateTime.UtcNow.AddDays(-2).ToString("yyyy-MM-dd"));
        await page.FillAsync("#campaigns-form input[name=to]", DateTime.UtcNow.ToString("yyyy-MM-dd"));
        await page.ClickAsync("#campaigns-form button[type=submit]");
        await page.WaitForSelectorAsync("#campaign-period:has-text('Triggered')");
        await AssertFits(page, "campaigns");

        await page.ClickAsync("a[href='#customers']");
        await page.FillAsync("#customer-form input[name=id]", "wide-customer-with-a-long-identifier-0001");
        await page.ClickAsync("#customer-form button[type=submit]");
        await page.WaitForSelectorAsync("#customer-actions tbody tr");
        var tallest = await page.EvaluateAsync<double>("Math.max(...[...document.querySelectorAll('#customer-actions tbody tr')].map(r => r.getBoundingClientRect().height))");
        Assert.True(tallest < 120, $"an action row is {tallest} px tall");
        await AssertFits(page, "customer");

        await page.ClickAsync("a[href='#pending']");
        await page.FillAsync("#pending-form input[name=customer]", "wide-customer-with-a-long-identifier-0001");
        await page.ClickAsync("#pending-form button[type=submit]");
        await page.WaitForSelectorAsync("#pending-table tbody tr button");
        await AssertFits(page, "pending");

        await page.ClickAsync("a[href='#errors']");
        await page.WaitForSelectorAsync("#errors-table tbody tr button");
        var replay = await page.Locator("#errors-table tbody tr button").First.BoundingBoxAsync();
        Assert.True(replay is not null && replay.X + replay.Width <= 1280, "the Replay button is off-screen");
        await AssertFits(page, "errors");

        // Rules: a validated file applied after a look at what it changes, then the earlier version rolled back from the history.
        await page.ClickAsync("a[href='#rules']");
        await page.WaitForSelectorAsync("#rules-history tbody tr");
        var before = await page.TextContentAsync("#rules-status dd");
        await page.SetInputFilesAsync("#rules-form input[type=file]", new FilePayload
        {
            Name = "campaigns.yaml", MimeType = "application/yaml",
            Buffer = System.Text.Encoding.UTF8.GetBytes(WideRules.Replace("  - id: browse-banner", "  - id: browse-banner-two", StringComparison.Ordinal)),
        });
        Assert.True(await page.IsHiddenAsync("#apply-button"));                      // only after validation
        await page.ClickAsync("#rules-form button[name=validate]");
        await page.WaitForSelectorAsync("#rules-result:has-text('Valid')");
        await page.ClickAsync("#apply-button");
        await page.WaitForSelectorAsync("#rules-confirm:not([hidden])");
        var summary = await page.Locator("#rules-confirm-summary li").AllTextContentsAsync();
        Assert.Contains("new campaigns: browse-banner-two", summary);
        Assert.Contains(summary, l => l.StartsWith("campaigns removed (their pending steps are cancelled): browse-banner", StringComparison.Ordinal));
        await AssertFits(page, "rules");
        await page.ClickAsync("#rules-confirm-yes");
        await page.WaitForSelectorAsync("#status:has-text('is in force')");
        var applied = (string?)(await worker.Http.GetFromJsonAsync<JsonObject>("/api/rules"))!["version"];
        Assert.NotEqual(before, applied);
        await page.WaitForSelectorAsync($"#rules-history button[data-version='{before}']");
        await page.ClickAsync($"#rules-history button[data-version='{before}']");
        await page.WaitForSelectorAsync("#rules-confirm:not([hidden])");
        await page.ClickAsync("#rules-confirm-yes");
        await page.WaitForSelectorAsync($"#status:has-text('Version {before} is in force')");
        Assert.Equal(before, (string?)(await worker.Http.GetFromJsonAsync<JsonObject>("/api/rules"))!["version"]);

        // A viewer sees neither apply nor rollback.
        var viewerPage = await (await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } })).NewPageAsync();
        await viewerPage.GotoAsync(baseUrl + "/sign-in");
        await viewerPage.FillAsync("#key", TestKeys.Viewer);
        await viewerPage.ClickAsync("button[type=submit]");
        await viewerPage.WaitForURLAsync(baseUrl + "/");
        await viewerPage.ClickAsync("a[href='#rules']");
        await viewerPage.WaitForSelectorAsync("#rules-history tbody tr:nth-child(2)");
        Assert.Equal(0, await viewerPage.Locator("#rules-history button").CountAsync());
    }
}

/// <summary>The browser test runs alone, after the parallel ones: Chromium is heavy on two cores.</summary>
[CollectionDefinition(nameof(BrowserCollection), DisableParallelization = true)]
public sealed class BrowserCollection;
