using System.Collections.Concurrent;
using System.Net.Http.Json;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>The log of a full run at information level holds no email address, API key or secret.</summary>
public sealed class LogPrivacyTests
{
    sealed class Capture : ILoggerProvider, ISupportExternalScope
    {
        public readonly ConcurrentQueue<string> Lines = new();
        IExternalScopeProvider? _scopes;
        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void Dispose() { }

        sealed class Logger(Capture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes?.Push(state);
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Trace;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scopes = new List<string>();
                owner._scopes?.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? ""), scopes);
                owner.Lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception} [{string.Join("; ", scopes)}] {Format(state)}");
            }

            static string Format<TState>(TState state) => state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
        }
    }

    [Fact]
    public async Task A_full_run_logs_no_email_address_key_or_secret_even_at_trace_level_and_names_its_ids_in_scopes()
    {
        TestServers.RequireSmtp();
        const string webhookSecret = "whsec-very-secret-value-0123456789";
        var capture = new Capture();
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?>
        {
            // Stricter than the promise (information): the worker's debug and trace lines hold no address either.
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:CampaignOrchestrator"] = "Trace",
            ["Webhooks:Secrets:crm"] = webhookSecret,
            ["Webhooks:SecretHosts:crm:0"] = "127.0.0.1",
            ["Webhooks:AllowPrivateNetworks"] = "true",
        }, services: s => s.AddSingleton<ILoggerProvider>(capture));
        await using var shop = await worker.ShopAsync();
        var customer = Events.Id("private");
        var address = $"{customer}@mail.example";
        var t = DateTimeOffset.UtcNow.AddMinutes(-30);
        var traits = new { email = address, firstName = "Pia", emailConsent = true, locale = "nl-NL" };
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("e"), t, null, anonymousId: customer + "-phone", traits: traits));
        await shop.PublishAsync(Events.Json("identified", Events.Id("e"), t.AddMinutes(1), customer, anonymousId: customer + "-phone", traits: traits));
        await shop.PublishAsync(Events.Json("order_placed", Events.Id("e"), t.AddMinutes(2), customer, traits: traits,
            properties: new { orderId = "o-1", total = 42.5, currency = "EUR" }));
        await shop.PublishAsync("""{"eventId":"bad","traits":{"email":"leak@mail.example"}}""");   // rejected, with an address in it
        await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Any(a => (string?)a!["campaignId"] == "order-confirmation"
            && (string?)a["status"] == "delivered"));
        await worker.Http.PostAsJsonAsync("/api/errors/replay", new { ids = new[] { "none" } });
        using (var guesser = worker.As("co_wrong-key-that-must-not-be-logged-0000"))
            await guesser.GetAsync("/api/rules");

        var log = string.Join("\n", capture.Lines);
        Assert.NotEmpty(capture.Lines);
        Assert.Contains(customer, log);                                   // ids are logged: that is how operators follow a journey
        Assert.DoesNotContain(address, log, StringComparison.OrdinalIgnoreCase);
        // What is logged while an event or an action is handled carries its ids as scopes.
        Assert.Contains(capture.Lines, l => l.Contains($"[eventId ") && l.Contains($"customerId {customer}]"));
        Assert.Contains(capture.Lines, l => l.Contains("actionId ") && l.Contains("campaignId order-confirmation"));
        Assert.DoesNotContain("leak@mail.example", log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("co_wrong-key-that-must-not-be-logged", log);
        Assert.DoesNotContain(TestKeys.Admin, log);
        Assert.DoesNotContain(webhookSecret, log);
    }
}
