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
        await using var shop = await RabbitPublisher.ConnectAsync();
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

    [Fact]
    public async Task Replay_without_a_choice_is_refused()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        var response = await worker.Http.PostAsJsonAsync("/api/errors/replay", new { });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }
}
