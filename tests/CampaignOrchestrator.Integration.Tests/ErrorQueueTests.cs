using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>"An operator can list and replay those messages" (wire contract v1).</summary>
public sealed class ErrorQueueTests
{
    [Fact]
    public async Task An_operator_lists_a_rejected_message_and_replays_it_once_the_cause_is_gone()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, services: s => s.AddSingleton<TimeProvider>(clock));
        await using var shop = await worker.ShopAsync();
        var customer = Events.Id("cust");
        var eventId = Events.Id("e");
        var messageId = Events.Id("msg");
        var other = Events.Id("msg");

        // A shop whose clock runs 30 h ahead: rejected. Another bad message stays where it is.
        await shop.PublishAsync(Events.Json("page_viewed", eventId, clock.GetUtcNow().AddHours(30), customer), messageId: messageId);
        await shop.PublishAsync("""{"eventId":"x"}""", messageId: other);

        JsonArray listed = [];
        for (var i = 0; i < 100 && listed.Count < 2; i++)
        {
            await Task.Delay(100);
            listed = (await worker.Http.GetFromJsonAsync<JsonObject>("/api/errors"))!["messages"]!.AsArray();
        }
        var rejected = listed.Single(m => (string?)m!["id"] == messageId)!;
        Assert.Equal(eventId, (string?)rejected["eventId"]);
        Assert.Contains("more than 24 h in the future", (string?)rejected["reason"]);
        Assert.Contains(customer, (string?)rejected["body"]);
        // Listing does not remove anything.
        Assert.Equal(2, (await worker.Http.GetFromJsonAsync<JsonObject>("/api/errors"))!["messages"]!.AsArray().Count);

        // Time passes; the same message is now inside the 24 h skew and the operator replays it.
        clock.Advance(TimeSpan.FromHours(8));
        var replay = await worker.Http.PostAsJsonAsync("/api/errors/replay", new { ids = new[] { messageId } });
        replay.EnsureSuccessStatusCode();
        Assert.Equal(1, (int)(await replay.Content.ReadFromJsonAsync<JsonObject>())!["replayed"]!);

        var journey = await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 1);
        Assert.Equal(eventId, (string?)journey["timeline"]![0]!["eventId"]);
        var left = (await worker.Http.GetFromJsonAsync<JsonObject>("/api/errors"))!["messages"]!.AsArray();
        Assert.Equal([other], left.Select(m => (string)m!["id"]!));
    }

    static async Task<JsonArray> ListedAsync(TestWorker worker, int atLeast)
    {
        JsonArray listed = [];
        for (var i = 0; i < 100 && listed.Count < atLeast; i++)
        {
            await Task.Delay(100);
            var response = await worker.Http.GetAsync("/api/errors");
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            listed = (await response.Content.ReadFromJsonAsync<JsonObject>())!["messages"]!.AsArray();
        }
        return listed;
    }

    [Fact]
    public async Task The_listing_survives_any_body_and_shows_what_it_can()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        await using var shop = await worker.ShopAsync();
        var surrogate = Events.Id("msg");
        var binary = Events.Id("msg");
        // An eventId JSON allows and .NET strings cannot hold (a lone surrogate), and bytes that are not UTF-8 at all.
        await shop.PublishAsync("""{"eventId":"\ud800","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c"}""", messageId: surrogate);
        await shop.PublishAsync([0xff, 0xfe, 0x00, 0x7b, 0xc3], messageId: binary);

        var listed = await ListedAsync(worker, 2);
        Assert.Equal(new[] { binary, surrogate }.Order(), listed.Select(m => (string)m!["id"]!).Order());
        Assert.All(listed, m => Assert.Null(m!["eventId"]));
        Assert.All(listed, m => Assert.False(string.IsNullOrEmpty((string?)m!["reason"])));
    }

    [Fact]
    public async Task Replaying_all_moves_each_message_once_even_when_it_fails_again_at_once()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        await using var shop = await worker.ShopAsync();
        var ids = new[] { Events.Id("msg"), Events.Id("msg"), Events.Id("msg") };
        foreach (var id in ids)
            await shop.PublishAsync("""{"not":"an event"}""", messageId: id);   // fails every time it is consumed
        Assert.Equal(3, (await ListedAsync(worker, 3)).Count);

        var replay = await worker.Http.PostAsJsonAsync("/api/errors/replay", new { all = true });
        replay.EnsureSuccessStatusCode();
        Assert.Equal(3, (int)(await replay.Content.ReadFromJsonAsync<JsonObject>())!["replayed"]!);
        // Back in the error queue once each, as they failed again.
        await Task.Delay(500);
        var back = await ListedAsync(worker, 3);
        Assert.Equal(ids.Order(), back.Select(m => (string)m!["id"]!).Order());
    }

    [Fact]
    public async Task An_admin_deletes_one_message_for_good_and_the_others_stay()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        await using var shop = await worker.ShopAsync();
        var (junk, keep) = (Events.Id("msg"), Events.Id("msg"));
        await shop.PublishAsync("""{"spam":true}""", messageId: junk);
        await shop.PublishAsync("""{"eventId":"x"}""", messageId: keep);
        Assert.Equal(2, (await ListedAsync(worker, 2)).Count);

        using (var marketer = worker.As(TestKeys.Marketer))
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await marketer.DeleteAsync($"/api/errors/{junk}")).StatusCode);
        var deleted = await worker.Http.DeleteAsync($"/api/errors/{junk}");
        Assert.Equal(1, (int)(await deleted.Content.ReadFromJsonAsync<JsonObject>())!["deleted"]!);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await worker.Http.DeleteAsync($"/api/errors/{junk}")).StatusCode);
        Assert.Equal([keep], (await ListedAsync(worker, 1)).Select(m => (string)m!["id"]!));
        var audit = await worker.Http.GetFromJsonAsync<JsonArray>("/api/audit");
        Assert.Equal(("errors.delete", junk, "1 deleted"), ((string?)audit![0]!["action"], (string?)audit[0]!["target"], (string?)audit[0]!["detail"]));
    }

    [Fact]
    public async Task Replay_without_a_choice_is_refused()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        var response = await worker.Http.PostAsJsonAsync("/api/errors/replay", new { });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }
}
