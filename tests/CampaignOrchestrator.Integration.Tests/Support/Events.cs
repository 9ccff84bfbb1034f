using System.Text.Json;
using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>Builds wire-contract JSON the way a webshop writes it.</summary>
internal static class Events
{
    public static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddDays(-2);

    public static string Json(string type, string eventId, DateTimeOffset at, string? customerId = null, string? anonymousId = null,
        object? traits = null, object? properties = null)
    {
        var obj = new JsonObject
        {
            ["eventId"] = eventId,
            ["type"] = type,
            ["occurredAt"] = at.ToOffset(TimeSpan.FromHours(1)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz"),
        };
        if (customerId is not null) obj["customerId"] = customerId;
        if (anonymousId is not null) obj["anonymousId"] = anonymousId;
        if (traits is not null) obj["traits"] = JsonSerializer.SerializeToNode(traits);
        if (properties is not null) obj["properties"] = JsonSerializer.SerializeToNode(properties);
        obj["context"] = new JsonObject { ["channel"] = "web", ["device"] = "mobile" };
        return obj.ToJsonString();
    }

    public static string Id(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static string Phase(this JsonObject journey) => (string)journey["phase"]!;

    public static int EventCount(this JsonObject journey) => (int)journey["eventCount"]!;

    public static string[] HistoryPhases(this JsonObject journey) =>
        journey["phaseHistory"]!.AsArray().Select(h => (string)h!["phase"]!).ToArray();

    public static string[] TimelineTypes(this JsonObject journey) =>
        journey["timeline"]!.AsArray().Select(h => (string)h!["type"]!).ToArray();
}
