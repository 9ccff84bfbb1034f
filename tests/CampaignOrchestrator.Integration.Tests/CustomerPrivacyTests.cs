using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Privacy;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using RabbitMQ.Client;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// A shop answers a customer's GDPR requests through the running worker, on both databases: the export holds everything
/// held about them; after the erasure no row of the store holds their id, a device's id or their address (only the
/// address's hash, on the suppression list), the audience they were in is told they left (reason erased, no id), and an
/// order placed later under the same address gets its confirmation but no marketing mail.
/// </summary>
[Collection(ApiKeyVariableCollection.Name)]
public sealed class CustomerPrivacyTests : IDisposable
{
    readonly RulesFolder _rules = new("campaigns.yaml", """
        campaigns:
          - id: cart-recovery
            trigger: { event: cart_abandoned }
            steps:
              - action: { kind: retargeting, audience: cart-abandoners }
              - action: { kind: banner, slot: home-hero, creative: still-thinking }
              - action: { kind: offer, discountPercent: 10, validFor: 72h }
              - delay: 2d
                action: { kind: email, template: cart-reminder }
          - id: thanks
            trigger: { event: order_placed }
            steps:
              - action: { kind: email, template: we-miss-you }
          - id: order-confirmation
            trigger: { event: order_placed }
            transactional: true
            steps:
              - action: { kind: email, template: order-confirmation }
        """);

    public void Dispose() => _rules.Dispose();

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Export_holds_everything_and_erasure_leaves_only_the_address_hash_on_the_suppression_list(Db db)
    {
        TestServers.RequireSmtp();
        await using var worker = await TestWorker.StartAsync(db, extra: TestWorker.Mailing(_rules.Path));
        var (rabbit, channel, queue) = await worker.ListenAsync("retargeting.left");
        await using var _ = rabbit;
        await using var shop = await worker.ShopAsync();
        var customer = "gdpr-" + Guid.NewGuid().ToString("N")[..10];
        var device = "gdpr-dev-" + Guid.NewGuid().ToString("N")[..10];
        var address = $"{customer}@Example.com";
        var t = DateTimeOffset.UtcNow.AddMinutes(-10);
        await shop.PublishAsync(Events.Json("product_viewed", Events.Id("view"), t, anonymousId: device, properties: new { productId = "p-1" }));
        await shop.PublishAsync(Events.Json("cart_abandoned", Events.Id("cart"), t.AddMinutes(1), customer, device,
            traits: new { email = address, emailConsent = true, adConsent = true, firstName = "Greta" }, properties: new { cartId = "k-1", cartValue = 40 }));
        await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Count(a => (string?)a!["status"] == "delivered") == 3);

        // Only an admin exports or erases.
        using var marketer = worker.As(TestKeys.Marketer);
        Assert.Equal(HttpStatusCode.Forbidden, (await marketer.GetAsync($"/api/customers/{customer}/export")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await marketer.DeleteAsync($"/api/customers/{customer}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await worker.Anonymous.DeleteAsync($"/api/customers/{customer}")).StatusCode);

        // The export, found by the device's id as well: profile, traits, devices, phases, timeline, actions with their log,
        // the banner, the offer, the audience, the address.
        var export = (await worker.Http.GetFromJsonAsync<JsonObject>($"/api/customers/{device}/export"))!;
        Assert.Equal(customer, (string?)export["customerId"]);
        var journey = export["journey"]!;
        Assert.Equal(address, (string?)journey["traits"]!["email"]);
        Assert.Equal([device], journey["anonymousIds"]!.AsArray().Select(d => (string)d!).ToArray());
        Assert.Equal(["product_viewed", "cart_abandoned"], journey["timeline"]!.AsArray().Select(e => (string)e!["type"]!).ToArray());
        Assert.NotEmpty(journey["phaseHistory"]!.AsArray());
        Assert.True((bool)export["timelineComplete"]!);
        var actions = export["actions"]!.AsArray();
        Assert.Equal(4, actions.Count);
        Assert.Single(actions, a => (string?)a!["status"] == "pending" && (string?)a["kind"] == "email");
        Assert.All(actions, a => Assert.NotEmpty(a!["log"]!.AsArray()));
        Assert.Equal("still-thinking", (string?)Assert.Single(export["placements"]!.AsArray())!["creative"]);
        Assert.Equal(10, (double)Assert.Single(export["offers"]!.AsArray())!["discountPercent"]!);
        Assert.Equal("cart-abandoners", (string?)Assert.Single(export["audiences"]!.AsArray())!["audience"]);
        Assert.Equal(device, (string?)Assert.Single(export["devices"]!.AsArray())!["anonymousId"]);
        var mail = Assert.Single(export["emailAddresses"]!.AsArray())!;
        Assert.Equal((address.ToLowerInvariant(), EmailHash.Of(address)), ((string?)mail["address"], (string?)mail["sha256"]));
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Http.GetAsync("/api/customers/nobody-we-know/export")).StatusCode);

        // The erasure.
        var erase = await worker.Http.DeleteAsync($"/api/customers/{customer}");
        Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        var report = (await erase.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((1, 1, 1), ((int)report["pendingCancelled"]!, (int)report["audiencesLeft"]!, (int)report["addressesSuppressed"]!));
        Assert.Equal(CustomerData.Pseudonym(customer), (string?)report["subject"]);
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Http.GetAsync($"/api/customers/{customer}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Http.GetAsync($"/api/customers/{device}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Http.DeleteAsync($"/api/customers/{customer}")).StatusCode);

        // The audience is told, by the hash alone.
        var leaves = await CampaignActionsListener.ReceiveAsync(channel, queue,
            r => r.Any(m => (string?)CampaignActionsListener.Body(m)["reason"] == "erased"), TimeSpan.FromSeconds(15));
        var left = leaves.Select(CampaignActionsListener.Body).FirstOrDefault(b => (string?)b["reason"] == "erased" && (string?)b["emailSha256"] == EmailHash.Of(address));
        Assert.NotNull(left);
        Assert.Equal(("cart-abandoners", null, null), ((string?)left["audience"], (string?)left["customerId"], (string?)left["anonymousId"]));

        // No row holds the id, the device or the address once the outbox has published; the address's hash is suppressed.
        var cells = await WaitForOutboxThenReadEveryCellAsync(worker, db);
        Assert.Empty(cells.Where(c => c.Value.Contains(customer, StringComparison.OrdinalIgnoreCase)
            || c.Value.Contains(device, StringComparison.OrdinalIgnoreCase) || c.Value.Contains(address, StringComparison.OrdinalIgnoreCase))
            .Select(c => $"{c.Table}.{c.Column}: {c.Value}"));
        Assert.Contains(cells, c => c.Table == "email_suppressions" && c.Column == "address_sha256" && c.Value == EmailHash.Of(address));
        Assert.Contains(cells, c => c.Table == "email_suppressions" && c.Column == "reason" && c.Value == "erased");
        var tables = cells.Select(c => c.Table).Distinct().ToList();
        Assert.DoesNotContain(tables, table => !PersonalData.Classifies(table));   // every table says what it holds of a customer
        if (db == Db.Sqlite)
        {
            // Nor any byte of the files: deleted rows are zeroed and the write-ahead log, which held the pages as they were, truncated.
            Assert.Contains("write-ahead log checkpointed and truncated", (string?)report["files"]);
            var file = new SqliteConnectionStringBuilder(worker.ConnectionString).DataSource;
            foreach (var path in new[] { file, file + "-wal", file + "-journal" }.Where(File.Exists))
            {
                await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var bytes = new byte[stream.Length];
                await stream.ReadExactlyAsync(bytes);
                foreach (var needle in new[] { address, address.ToLowerInvariant(), customer, device })
                    Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) < 0, $"{Path.GetFileName(path)} still holds '{needle}'");
            }
        }

        // The audit keeps that it happened, naming the customer by the hash.
        var audit = (await worker.Http.GetFromJsonAsync<JsonArray>("/api/audit"))!;
        Assert.Equal([("customers.export", CustomerData.Pseudonym(customer)), ("customers.erase", CustomerData.Pseudonym(customer))],
            audit.Select(e => ((string)e!["action"]!, (string)e["target"]!)).ToList());

        // A later order under that id and address starts a new profile: its confirmation is sent, the marketing mail is not.
        await shop.PublishAsync(Events.Json("order_placed", Events.Id("order"), DateTimeOffset.UtcNow.AddMinutes(-1), customer,
            traits: new { email = address, emailConsent = true }, properties: new { orderId = "o-9", total = 30, currency = "EUR" }));
        var after = await worker.WaitForCustomerAsync(customer, j => j["actions"]!.AsArray().Count(a => (string?)a!["status"] is "delivered" or "suppressed") == 2);
        Assert.Equal(1, after.EventCount());
        var byCampaign = after["actions"]!.AsArray().ToDictionary(a => (string)a!["campaignId"]!, a => a!.AsObject());
        Assert.Equal("delivered", (string?)byCampaign["order-confirmation"]["status"]);
        Assert.Equal("suppressed", (string?)byCampaign["thanks"]["status"]);
        Assert.Contains("erased", (string?)byCampaign["thanks"]["reason"]);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Erasing_a_customer_whose_device_id_is_another_customers_id_leaves_that_customers_audit_alone(Db db)
    {
        await using var worker = await TestWorker.StartAsync(db, extra: new Dictionary<string, string?> { ["Rules:Path"] = _rules.Path });
        await using var shop = await worker.ShopAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        var (shared, other) = ($"shared-{run}", $"other-{run}");
        // One shop's customer id is another's device id (they are only strings).
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("v"), DateTimeOffset.UtcNow.AddMinutes(-2), shared));
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("v"), DateTimeOffset.UtcNow.AddMinutes(-2), other, anonymousId: shared));
        await worker.WaitForCustomerAsync(shared, j => j.EventCount() == 1 && (string?)j["customerId"] == shared);
        await worker.WaitForCustomerAsync(other, j => j.EventCount() == 1);
        Assert.Equal(HttpStatusCode.OK, (await worker.Http.GetAsync($"/api/customers/{shared}/export")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await worker.Http.GetAsync($"/api/customers/{other}/export")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await worker.Http.DeleteAsync($"/api/customers/{other}")).StatusCode);

        var audit = (await worker.Http.GetFromJsonAsync<JsonArray>("/api/audit"))!.Select(e => ((string)e!["action"]!, (string)e["target"]!)).ToList();
        Assert.Equal([("customers.export", "c:" + shared), ("customers.export", CustomerData.Pseudonym(other)), ("customers.erase", CustomerData.Pseudonym(other))],
            audit);
        Assert.Equal(shared, (string?)(await worker.Http.GetFromJsonAsync<JsonObject>($"/api/customers/{shared}"))!["customerId"]);
    }

    [Fact]
    public async Task The_CLI_exports_to_a_file_and_erases_only_when_told_yes()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, extra: new Dictionary<string, string?> { ["Rules:Path"] = _rules.Path });
        await using var shop = await worker.ShopAsync();
        var customer = "gdpr-cli-" + Guid.NewGuid().ToString("N")[..8];
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("v"), DateTimeOffset.UtcNow.AddMinutes(-1), customer, traits: new { email = "cli@example.com" }));
        await worker.WaitForCustomerAsync(customer, _ => true);
        var file = Path.Combine(_rules.Path, "export.json");
        var url = worker.Http.BaseAddress!.ToString();
        Environment.SetEnvironmentVariable("CAMPAIGN_API_KEY", TestKeys.Admin);
        try
        {
            var (output, errors) = (new StringWriter(), new StringWriter());
            Assert.Equal(0, await CampaignOrchestrator.Worker.Commands.ApiCommand.RunAsync(["customers", "export", customer, "--out", file, "--url", url], output, errors));
            Assert.Equal("cli@example.com", (string?)JsonNode.Parse(File.ReadAllText(file))!["journey"]!["traits"]!["email"]);
            Assert.Equal(2, await CampaignOrchestrator.Worker.Commands.ApiCommand.RunAsync(["customers", "erase", customer, "--url", url], output, errors));
            Assert.Equal(HttpStatusCode.OK, (await worker.Http.GetAsync($"/api/customers/{customer}")).StatusCode);   // not without --yes
            Assert.Equal(0, await CampaignOrchestrator.Worker.Commands.ApiCommand.RunAsync(["customers", "erase", customer, "--yes", "--url", url], output, errors));
            Assert.Equal(HttpStatusCode.NotFound, (await worker.Http.GetAsync($"/api/customers/{customer}")).StatusCode);
            Assert.Equal(1, await CampaignOrchestrator.Worker.Commands.ApiCommand.RunAsync(["customers", "erase", customer, "--yes", "--url", url], output, errors));
            Assert.Contains("404", errors.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable("CAMPAIGN_API_KEY", null);
        }
    }

    /// <summary>Waits until the outbox is empty, then reads every cell of every table of the worker's store as text.</summary>
    static async Task<List<(string Table, string Column, string Value)>> WaitForOutboxThenReadEveryCellAsync(TestWorker worker, Db db)
    {
        await using DbConnection connection = db == Db.Postgres ? new NpgsqlConnection(worker.ConnectionString) : new SqliteConnection(worker.ConnectionString);
        await connection.OpenAsync();
        for (var deadline = DateTime.UtcNow.AddSeconds(15); await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox") > 0;)
        {
            Assert.True(DateTime.UtcNow < deadline, "the outbox was not published within 15 s");
            await Task.Delay(100);
        }
        var tables = (await connection.QueryAsync<string>(db == Db.Postgres
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")).ToList();
        var cells = new List<(string, string, string)>();
        foreach (var table in tables)
            foreach (IDictionary<string, object?> row in await connection.QueryAsync($"SELECT * FROM \"{table}\""))
                foreach (var (column, value) in row)
                    if (value is not null and not DBNull)
                        cells.Add((table, column, value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!));
        // An empty table still says it exists.
        cells.AddRange(tables.Select(t => (t, "", "")));
        return cells;
    }
}
