using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Contracts.Inbound;
using CampaignOrchestrator.Integration.Tests.Support;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>The inbound side end to end: real RabbitMQ, the real worker host, its store and read API.</summary>
public sealed class InboundTests
{
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Raw_json_from_any_amqp_client_builds_the_journey_across_devices(Db db)
    {
        await using var worker = await TestWorker.StartAsync(db);
        await using var shop = await worker.ShopAsync();
        var customer = Events.Id("cust");
        var phone = Events.Id("phone");
        var t = Events.T0;

        await shop.PublishAsync(Events.Json("ad_clicked", Events.Id("e"), t, anonymousId: phone), "ad_clicked");
        await shop.PublishAsync(Events.Json("product_viewed", Events.Id("e"), t.AddMinutes(5), anonymousId: phone,
            traits: new { locale = "nl-NL" }), "product_viewed");
        await worker.WaitForCustomerAsync(phone, j => j.EventCount() == 2);

        // Logging in links the phone to the account: the phone's browsing counts for the customer.
        await shop.PublishAsync(Events.Json("identified", Events.Id("e"), t.AddHours(1), customer, phone,
            traits: new { email = "anna@example.com", firstName = "Anna" }), "identified");
        await shop.PublishAsync(Events.Json("order_placed", Events.Id("e"), t.AddHours(2), customer,
            properties: new { orderId = "o-1", total = 89.95, currency = "EUR" }), "order_placed");
        // Later events with only the phone's id land on the customer too.
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("e"), t.AddHours(3), anonymousId: phone), "page_viewed");

        var journey = await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 5);
        Assert.Equal("purchase", journey.Phase());
        Assert.Equal(["awareness", "consideration", "purchase"], journey.HistoryPhases());
        Assert.Equal(["ad_clicked", "product_viewed", "identified", "order_placed", "page_viewed"], journey.TimelineTypes());
        Assert.Equal("Anna", (string?)journey["traits"]!["firstName"]);
        Assert.Equal("nl-NL", (string?)journey["traits"]!["locale"]);
        Assert.Equal([phone], journey["anonymousIds"]!.AsArray().Select(a => (string)a!));

        // The phone's id now answers with the customer's journey.
        var byDevice = await worker.Http.GetFromJsonAsync<JsonObject>($"/api/customers/{phone}");
        Assert.Equal(customer, (string?)byDevice!["customerId"]);
    }

    [Fact]
    public async Task Typed_event_through_masstransit_and_raw_json_give_the_same_journey()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        await using var shop = await worker.ShopAsync();
        // A .NET webshop with MassTransit's default settings, publishing the typed contract.
        await using var provider = new ServiceCollection()
            .AddMassTransit(x => x.UsingRabbitMq((_, cfg) => cfg.Host(TestServers.RabbitHost, (ushort)TestServers.RabbitPort, worker.VirtualHost, h => { h.Username("guest"); h.Password("guest"); })))
            .BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync();
        try
        {
            var typedCustomer = Events.Id("typed");
            var rawCustomer = Events.Id("raw");
            var at = new DateTimeOffset(2026, 11, 20, 10, 15, 0, TimeSpan.FromHours(1));
            var traits = new Dictionary<string, JsonElement>
            {
                ["persona"] = JsonSerializer.SerializeToElement("bargain-hunter"),
                ["emailConsent"] = JsonSerializer.SerializeToElement(true),
            };
            var properties = new Dictionary<string, JsonElement>
            {
                ["cartId"] = JsonSerializer.SerializeToElement("cart-9"),
                ["cartValue"] = JsonSerializer.SerializeToElement(89.95),
                ["items"] = JsonSerializer.SerializeToElement(new[] { new { sku = "SHOE-42", quantity = 1 } }),
            };
            await bus.Publish(new JourneyEvent
            {
                EventId = Events.Id("e"), Type = "cart_abandoned", OccurredAt = at, CustomerId = typedCustomer, Traits = traits, Properties = properties,
            });
            await shop.PublishAsync(JsonSerializer.Serialize(new JourneyEvent
            {
                EventId = Events.Id("e"), Type = "cart_abandoned", OccurredAt = at, CustomerId = rawCustomer, Traits = traits, Properties = properties,
            }, JsonSerializerOptions.Web), "cart_abandoned");

            var typed = await worker.WaitForCustomerAsync(typedCustomer, j => j.EventCount() == 1);
            var raw = await worker.WaitForCustomerAsync(rawCustomer, j => j.EventCount() == 1);
            Assert.Equal("purchase", typed.Phase());
            foreach (var path in new Func<JsonObject, JsonNode?>[] { j => j["phase"], j => j["traits"], j => j["timeline"]![0]!["properties"], j => j["timeline"]![0]!["occurredAt"], j => j["phaseSince"] })
                Assert.Equal(path(raw)!.ToJsonString(), path(typed)!.ToJsonString());
            Assert.Equal("bargain-hunter", (string?)typed["traits"]!["persona"]);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task Bad_messages_go_to_the_error_queue_with_their_reason_and_consuming_goes_on()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        await using var shop = await worker.ShopAsync();
        var customer = Events.Id("cust");
        var marker = Events.Id("bad");
        var bad = new (string Body, string Reason)[]
        {
            ("{ this is not json", "is an invalid start of a property name"),
            ("[1, 2, 3]", "must be of type 'Object'"),
            ($$"""{"type":"page_viewed","occurredAt":"2026-11-22T10:15:00+01:00","customerId":"{{customer}}"}""", "eventId is required"),
            ($$"""{"eventId":"{{marker}}-type","type":"Page Viewed","occurredAt":"2026-11-22T10:15:00+01:00","customerId":"{{customer}}"}""", "type 'Page Viewed' must match"),
            ($$"""{"eventId":"{{marker}}-ts","type":"page_viewed","occurredAt":"22/11/2026 10:15","customerId":"{{customer}}"}""", "not an ISO-8601 timestamp"),
            ($$"""{"eventId":"{{marker}}-noffset","type":"page_viewed","occurredAt":"2026-11-22T10:15:00","customerId":"{{customer}}"}""", "not an ISO-8601 timestamp with offset"),
            (Events.Json("page_viewed", marker + "-future", DateTimeOffset.UtcNow.AddHours(30), customer), "more than 24 h in the future"),
            ($$"""{"eventId":"{{marker}}-noid","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z"}""", "at least one of customerId and anonymousId"),
            ($$"""{"eventId":"{{marker}}-traits","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"{{customer}}","traits":[1]}""", "traits must be a JSON object"),
            (Events.Json("page_viewed", marker + "-big", Events.T0, customer, properties: new { blob = new string('x', 270_000) }), "the limit is 262144 bytes"),
        };
        for (var i = 0; i < bad.Length; i++)
            await shop.PublishAsync(bad[i].Body, messageId: $"{marker}-{i}");
        // The next good message is processed all the same.
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("e"), Events.T0, customer));
        await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 1);

        var errors = new List<RabbitMQ.Client.BasicGetResult>();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && errors.Count(e => e.BasicProperties.MessageId?.StartsWith(marker) == true) < bad.Length)
        {
            errors.AddRange(await shop.DrainAsync(worker.Queue + "_error"));
            await Task.Delay(200);
        }
        var mine = errors.Where(e => e.BasicProperties.MessageId?.StartsWith(marker) == true)
            .ToDictionary(e => e.BasicProperties.MessageId!);
        for (var i = 0; i < bad.Length; i++)
        {
            Assert.True(mine.TryGetValue($"{marker}-{i}", out var error), $"bad message {i} ({bad[i].Reason}) is not in the error queue");
            var reason = Encoding.UTF8.GetString((byte[])error.BasicProperties.Headers!["MT-Fault-Message"]!);
            Assert.Contains(bad[i].Reason, reason);
            Assert.Equal(bad[i].Body, Encoding.UTF8.GetString(error.Body.Span)); // nothing lost: the body is kept as sent
        }
        var metrics = await worker.Http.GetFromJsonAsync<JsonObject>("/api/metrics");
        // Every bad message counted once: the unreadable one by the error pipe, the rest by the consumer.
        Assert.Equal(bad.Length, (long)metrics!["journeyEvents"]!["rejected"]!);

        // Nothing of the bad messages reached the journey.
        var journey = await worker.Http.GetFromJsonAsync<JsonObject>($"/api/customers/{customer}");
        Assert.Equal(1, journey!.EventCount());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_event_delivered_twice_has_its_effect_once(Db db)
    {
        await using var worker = await TestWorker.StartAsync(db);
        await using var shop = await worker.ShopAsync();
        var customer = Events.Id("cust");
        var json = Events.Json("order_placed", Events.Id("e"), Events.T0, customer, properties: new { orderId = "o-1" });
        await shop.PublishAsync(json);
        await shop.PublishAsync(json);
        await shop.PublishAsync(json, contentType: null); // a missing content type is read as JSON too
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("e"), Events.T0.AddHours(1), customer));

        var journey = await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 2);
        await Task.Delay(500);
        journey = (await worker.Http.GetFromJsonAsync<JsonObject>($"/api/customers/{customer}"))!;
        Assert.Equal(2, journey.EventCount());
        Assert.Equal(1, (int)journey["orderCount"]!);
        Assert.Equal("purchase", journey.Phase()); // a duplicate order is not a second order
        var metrics = await worker.Http.GetFromJsonAsync<JsonObject>("/api/metrics");
        Assert.Equal(2, (long)metrics!["journeyEvents"]!["duplicates"]!);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_late_event_lands_in_its_place_and_the_phase_history_is_rewritten(Db db)
    {
        await using var worker = await TestWorker.StartAsync(db);
        await using var shop = await worker.ShopAsync();
        var customer = Events.Id("cust");
        var t = Events.T0;
        var viewed = Events.Id("e");
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("e"), t, customer));
        await shop.PublishAsync(Events.Json("order_placed", Events.Id("e"), t.AddHours(2), customer));
        await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 2);

        // product_viewed happened between the two but arrives last.
        await shop.PublishAsync(Events.Json("product_viewed", viewed, t.AddHours(1), customer));
        var journey = await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 3);
        Assert.Equal(["page_viewed", "product_viewed", "order_placed"], journey.TimelineTypes());
        Assert.Equal(["awareness", "consideration", "purchase"], journey.HistoryPhases());
        Assert.Equal(viewed, (string?)journey["phaseHistory"]![1]!["eventId"]);
        Assert.Equal("purchase", journey.Phase());
    }

    [Fact]
    public async Task Health_reports_the_bus_and_the_database()
    {
        await using var worker = await TestWorker.StartAsync(Db.Postgres);
        var response = await worker.Http.GetAsync("/health");
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", (string?)body!["status"]);
        Assert.Equal("Healthy", (string?)body["checks"]!["database"]!["status"]);
        Assert.Equal("Healthy", (string?)body["checks"]!["masstransit-bus"]!["status"]);
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Http.GetAsync("/api/customers/nobody-" + Guid.NewGuid())).StatusCode);
    }

    [Fact]
    public async Task A_briefly_unreachable_database_is_retried_not_sent_to_the_error_queue()
    {
        await using var worker = await TestWorker.StartAsync(Db.Postgres, extra: new Dictionary<string, string?> { ["Bus:RetryLimit"] = "10" });
        await using var shop = await worker.ShopAsync();
        var database = new NpgsqlConnectionStringBuilder(worker.ConnectionString).Database!;
        await using var admin = new NpgsqlConnection(TestServers.PostgresAdmin);
        await admin.OpenAsync();
        async Task Admin(string sql) { await using var c = new NpgsqlCommand(sql, admin); await c.ExecuteNonQueryAsync(); }

        // The database refuses connections for 3 seconds.
        await Admin($"ALTER DATABASE {database} ALLOW_CONNECTIONS false");
        await Admin($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'");
        NpgsqlConnection.ClearAllPools();
        var customer = Events.Id("cust");
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("e"), Events.T0, customer));
        await Task.Delay(3000);
        await Admin($"ALTER DATABASE {database} ALLOW_CONNECTIONS true");

        await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 1);
        Assert.Empty(await shop.DrainAsync(worker.Queue + "_error"));
    }
}
