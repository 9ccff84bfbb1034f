using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>
/// Hostile and broken messages through RabbitMQ: each is rejected into the error queue with a reason an operator can act
/// on (no raw control character in it), the worker keeps running, and the good event sent after them is processed.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed class HostileInputTests
{
    [Fact]
    public async Task Each_hostile_message_lands_in_the_error_queue_with_its_reason_and_the_next_good_event_is_processed()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        await using var shop = await worker.ShopAsync();
        var now = DateTimeOffset.UtcNow;
        var customer = Events.Id("cust");
        string Ev(string id, string type = "page_viewed", string at = "", string customerJson = "", string traits = "{}", string properties = "{}") =>
            $$"""{"eventId":"{{id}}","type":"{{type}}","occurredAt":"{{(at == "" ? now.AddMinutes(-1).ToString("O") : at)}}","customerId":{{(customerJson == "" ? $"\"{customer}\"" : customerJson)}},"traits":{{traits}},"properties":{{properties}}}""";
        var many = "{" + string.Join(",", Enumerable.Range(0, 8000).Select(i => $"\"t{i}\":{i}")) + "}";
        var corpus = new (string Name, string Body, string Reason)[]
        {
            // MassTransit's JSON reader refuses these before the contract is checked; its reason is kept.
            ("truncated", """{"eventId":"x","type":"page_vi""", "end of data"),
            ("wrong types", """{"eventId":1,"type":[],"occurredAt":true,"customerId":{}}""", "eventId must be a string"),
            ("nulls", """{"eventId":null,"type":null,"occurredAt":null,"customerId":null}""", "eventId is required"),
            ("deep", new string('[', 200) + new string(']', 200), "maximum configured depth"),
            ("year 1 cart", Ev(Events.Id("e"), "cart_abandoned", "0001-01-01T00:00:00Z", properties: """{"cartId":"c1","cartValue":10}"""), "days in the past"),
            ("far future", Ev(Events.Id("e"), at: "2999-01-01T00:00:00Z"), "in the future"),
            ("NUL in id", Ev(Events.Id("e"), customerJson: "\"a\\u0000b\""), "U+0000"),
            ("bidi override in id", Ev(Events.Id("e"), customerJson: "\"a\\u202eb\""), "U+202E"),
            ("ESC in id", Ev(Events.Id("e"), customerJson: "\"a\\u001b[2Jb\""), "U+001B"),
            ("8,000 traits", Ev(Events.Id("e"), traits: many), "traits has more than 100 keys"),
            ("total 1e30", Ev(Events.Id("e"), "order_placed", properties: """{"orderId":"o","total":1e30}"""), "properties.total 1e30 is out of range"),
            ("score 1e30", Ev(Events.Id("e"), traits: """{"score":1e30}"""), "traits.score 1e30 is out of range"),
            ("lone surrogate", Ev(Events.Id("e"), traits: """{"firstName":"\ud800"}"""), "incomplete UTF-16"),
        };
        foreach (var (name, body, _) in corpus)
            await shop.PublishAsync(body, messageId: "hostile-" + name.Replace(' ', '-'));
        var good = Events.Id("good");
        await shop.PublishAsync(Events.Json("page_viewed", good, now.AddMinutes(-1), customer, traits: new { firstName = "<script>alert(1)</script>", note = "'; DROP TABLE events; --" }));

        var journey = await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 1);
        Assert.Equal(good, (string?)journey["timeline"]![0]!["eventId"]);
        Assert.Equal("'; DROP TABLE events; --", (string?)journey["traits"]!["note"]);
        JsonArray listed = [];
        for (var i = 0; i < 150 && listed.Count < corpus.Length; i++)
        {
            await Task.Delay(100);
            listed = (await worker.Http.GetFromJsonAsync<JsonObject>("/api/errors?limit=100"))!["messages"]!.AsArray();
        }
        var wrong = new List<string>();
        foreach (var (name, _, reason) in corpus)
        {
            var message = listed.SingleOrDefault(m => (string?)m!["id"] == "hostile-" + name.Replace(' ', '-'));
            var why = (string?)message?["reason"] ?? "(not in the error queue)";
            if (!why.Contains(reason, StringComparison.Ordinal) || why.Any(c => char.IsControl(c) || c == '\u202e'))
                wrong.Add($"'{name}': '{why}' does not say '{reason}'");
        }
        Assert.Empty(wrong);
        Assert.True((await worker.Http.GetAsync("/health")).IsSuccessStatusCode);
    }
    [Fact]
    public async Task A_body_over_the_limit_is_refused_before_it_is_parsed_and_one_over_the_brokers_limit_never_arrives()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        await using var shop = await worker.ShopAsync();
        var customer = Events.Id("cust");
        // 300 KiB of valid JSON: over the contract's 256 KiB, under the broker's 512 KiB.
        var padding = new string('x', 300 * 1024);
        await shop.PublishAsync(Events.Json("page_viewed", Events.Id("big"), DateTimeOffset.UtcNow.AddMinutes(-1), customer, properties: new { padding }),
            messageId: "oversize-300k");
        // 2 MiB: the broker refuses it at the publisher (its channel is closed), so the worker never holds it.
        await using (var other = await worker.ShopAsync())
        {
            var refused = await Record.ExceptionAsync(() => other.PublishAsync(new byte[2 * 1024 * 1024], messageId: "oversize-2m"));
            Assert.NotNull(refused);
            Assert.Contains("message size", refused.Message, StringComparison.OrdinalIgnoreCase);
        }
        var good = Events.Id("good");
        await shop.PublishAsync(Events.Json("page_viewed", good, DateTimeOffset.UtcNow.AddMinutes(-1), customer));
        var journey = await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 1);
        Assert.Equal(good, (string?)journey["timeline"]![0]!["eventId"]);
        JsonArray listed = [];
        for (var i = 0; i < 100 && !listed.Any(m => (string?)m!["id"] == "oversize-300k"); i++)
        {
            await Task.Delay(100);
            listed = (await worker.Http.GetFromJsonAsync<JsonObject>("/api/errors?limit=100"))!["messages"]!.AsArray();
        }
        Assert.True(listed.Any(m => (string?)m!["id"] == "oversize-300k"), "the 300 KiB message is not in the error queue");
        var rejected = listed.Single(m => (string?)m!["id"] == "oversize-300k")!;
        Assert.Contains($"body is {Encoding(rejected)} bytes; the limit is 262144 bytes (256 KiB)", (string?)rejected["reason"]);
        Assert.DoesNotContain(listed, m => (string?)m!["id"] == "oversize-2m");
    }

    [Fact]
    public async Task Readiness_says_whether_the_broker_refuses_large_messages_before_the_worker_must_read_them()
    {
        await using (var worker = await TestWorker.StartAsync(Db.Sqlite))
        {
            var limits = await BusLimits(worker, "Healthy");
            Assert.Equal("RabbitMQ refuses messages over 1024 KiB at the publisher", (string?)limits["description"]);
        }
        // A broker without max_message_size (RabbitMQ's own default is 128 MiB).
        await TestServers.Infra("max-message-size", "134217728");
        try
        {
            await using var worker = await TestWorker.StartAsync(Db.Sqlite);
            var limits = await BusLimits(worker, "Degraded");
            Assert.Contains("set max_message_size = 524288", (string?)limits["description"]);
            Assert.Equal(HttpStatusCode.OK, (await worker.Anonymous.GetAsync("/health/ready")).StatusCode);   // degraded is still ready
        }
        finally
        {
            await TestServers.Infra("max-message-size", "524288");
        }
    }

    static async Task<JsonNode> BusLimits(TestWorker worker, string status)
    {
        JsonNode? check = null;
        for (var i = 0; i < 100 && (string?)check?["status"] != status; i++)
        {
            await Task.Delay(100);
            var ready = await worker.Anonymous.GetAsync("/health/ready");
            check = (await ready.Content.ReadFromJsonAsync<JsonObject>())!["checks"]!["bus-limits"];
        }
        Assert.Equal(status, (string?)check?["status"]);
        return check!;
    }

    [Fact]
    public void Listing_a_16_MB_message_of_the_error_queue_decodes_only_what_it_shows()
    {
        var body = System.Text.Encoding.UTF8.GetBytes("{\"eventId\":\"big\",\"p\":\"" + new string('é', 8 * 1024 * 1024) + "\"}");
        var before = GC.GetAllocatedBytesForCurrentThread();
        var preview = Infrastructure.Messaging.ErrorQueue.BodyPreview(body);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(4097, preview.Length);
        Assert.EndsWith("é…", preview);
        Assert.True(allocated < 64 * 1024, $"{allocated:N0} bytes allocated to show 4 KB of a {body.Length:N0}-byte body");
        Assert.Equal("{\"a\":1}", Infrastructure.Messaging.ErrorQueue.BodyPreview("{\"a\":1}"u8));
    }

    static string Encoding(JsonNode message) => System.Text.RegularExpressions.Regex.Match((string?)message["reason"] ?? "", @"body is (\d+) bytes").Groups[1].Value is { Length: > 0 } n
        && long.Parse(n) > 300 * 1024 ? n : "(a size over 300 KiB)";
}
