using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Integration.Tests.Support;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>An operator finds a customer by email without the address in the URL (its hash), or by a device's id.</summary>
public sealed class CustomerLookupTests
{
    static async Task<string[]> FindAsync(HttpClient http, string address) =>
        (await http.GetFromJsonAsync<JsonArray>($"/api/customers?emailSha256={EmailHash.Of(address)}"))!
        .Select(m => (string)(m!["customerId"] ?? ("device:" + (string)m["anonymousId"]!))!).ToArray();

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_customer_is_found_by_the_hash_of_the_address_they_use_now_and_by_a_device(Db db)
    {
        await using var worker = await TestWorker.StartAsync(db);
        await using var shop = await worker.ShopAsync();
        var (customer, device) = (Events.Id("look"), Events.Id("look-dev"));
        var (first, second) = ($"{customer}@example.com", $"{customer}@elsewhere.example");
        var t = DateTimeOffset.UtcNow.AddMinutes(-30);
        using var viewer = worker.As(TestKeys.Viewer);

        // A device that left its address (a newsletter form) is found as a device.
        await shop.PublishAsync(Events.Json("newsletter_signup", Events.Id("n"), t, anonymousId: device, traits: new { email = $"  {first.ToUpperInvariant()} " }));
        await worker.WaitForCustomerAsync(device, j => j.EventCount() == 1);
        Assert.Equal(["device:" + device], await FindAsync(viewer, first));

        // Signed in on that device: the customer is found, once, by the address and by the device.
        await shop.PublishAsync(Events.Json("signed_in", Events.Id("s"), t.AddMinutes(1), customer, device));
        await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 2);
        Assert.Equal([customer], await FindAsync(viewer, first));
        var byDevice = (await viewer.GetFromJsonAsync<JsonArray>($"/api/customers?anonymousId={device}"))!;
        Assert.Equal(customer, (string?)Assert.Single(byDevice)!["customerId"]);
        Assert.Empty((await viewer.GetFromJsonAsync<JsonArray>("/api/customers?anonymousId=no-such-device"))!);

        // A new address: found by it, no longer by the old one.
        await shop.PublishAsync(Events.Json("profile_updated", Events.Id("u"), t.AddMinutes(2), customer, traits: new { email = second }));
        await worker.WaitForCustomerAsync(customer, j => (string?)j["traits"]!["email"] == second);
        Assert.Equal([customer], await FindAsync(viewer, second));
        Assert.Empty(await FindAsync(viewer, first));

        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync($"/api/customers?emailSha256={first}")).StatusCode);   // the address itself: refused
        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync("/api/customers")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await worker.As(TestKeys.Placement).GetAsync($"/api/customers?emailSha256={EmailHash.Of(second)}")).StatusCode);
    }

    [Theory]
    [InlineData(StorageProvider.Sqlite)]
    [InlineData(StorageProvider.Postgres)]
    public async Task The_upgrade_fills_the_lookup_for_profiles_stored_before(StorageProvider provider)
    {
        var connectionString = await TestDatabases.CreateAsync(provider);
        try
        {
            using (var old = new Database(provider, connectionString))
            {
                await new SchemaMigrator(old, NullLogger<SchemaMigrator>.Instance).MigrateAsync(default, upTo: "0015_rules_sources");
                await using var connection = await old.OpenAsync(default);
                var at = DateTimeOffset.UtcNow;
                await connection.ExecuteAsync(
                    "INSERT INTO profiles (profile_id, customer_id, traits, trait_times, phase, phase_since, order_count, order_total, event_count, first_seen, last_seen, seen_hour, updated_at) " +
                    $"VALUES (@id, @cid, {(provider == StorageProvider.Postgres ? "CAST(@traits AS jsonb), CAST('{}' AS jsonb)" : "@traits, '{}'")}, NULL, NULL, 0, 0, 1, @at, @at, @at, @at)",
                    new[]
                    {
                        new { id = "c:old-1", cid = (string?)"old-1", traits = """{"email":"Old@Example.com"}""", at },
                        new { id = "a:dev-2", cid = (string?)null, traits = """{"firstName":"No address"}""", at },
                    });
            }
            using var upgraded = await TestDatabases.OpenMigratedAsync(provider, connectionString);
            await using var c = await upgraded.OpenAsync(default);
            Assert.Equal([(EmailHash.Of("old@example.com"), "c:old-1")],
                (await c.QueryAsync<(string, string)>("SELECT email_sha256, profile_id FROM email_lookup")).ToList());
        }
        finally
        {
            await TestDatabases.DropAsync(provider, connectionString);
        }
    }
}
