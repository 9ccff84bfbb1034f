using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Bench;

/// <summary>
/// Realistic journey traffic: many customers, mostly browsing, some carts and orders, devices that
/// log in, and a few events that arrive out of occurredAt order. Seeded, so runs compare.
/// </summary>
public static class EventGenerator
{
    static readonly (string Type, int Weight)[] Types =
    [
        ("page_viewed", 30), ("product_viewed", 25), ("search_performed", 8), ("ad_clicked", 6), ("product_compared", 4),
        ("cart_updated", 8), ("checkout_started", 4), ("cart_abandoned", 3), ("order_placed", 4), ("order_shipped", 2),
        ("order_delivered", 2), ("review_submitted", 1), ("identified", 2), ("size_guide_opened", 1),
    ];

    /// <param name="sessions">Customers come in visits: each event continues the current customer's visit with
    /// probability 0.8 (so a visit has about five events, seconds apart), instead of every event picking a customer
    /// at random (about 6.6 hours between a customer's events in 60,000).</param>
    public static IReadOnlyList<(string Type, byte[] Body)> Create(int count, int customers, string idPrefix = "", bool sessions = false)
    {
        var random = new Random(42);
        var total = Types.Sum(t => t.Weight);
        var start = DateTimeOffset.UtcNow.AddDays(-3);
        var list = new List<(string, byte[])>(count);
        var current = 0;
        for (var i = 0; i < count; i++)
        {
            var pick = random.Next(total);
            var type = Types.First(t => (pick -= t.Weight) < 0).Type;
            var c = sessions && i > 0 && random.Next(5) != 0 ? current : random.Next(customers);
            current = c;
            var anonymousOnly = c % 5 == 0 && type is not ("identified" or "order_placed");
            var at = start.AddSeconds(i * 2 - (random.Next(20) == 0 ? random.Next(3600) : 0)); // 5 % late
            var e = new JsonObject
            {
                ["eventId"] = $"bench-{Guid.NewGuid():N}",
                ["type"] = type,
                ["occurredAt"] = at.ToString("O"),
            };
            if (!anonymousOnly) e["customerId"] = $"{idPrefix}cust-{c}";
            if (anonymousOnly || type == "identified") e["anonymousId"] = $"{idPrefix}dev-{c}";
            if (random.Next(10) == 0 || type == "identified")
                e["traits"] = new JsonObject { ["email"] = $"c{c}@example.com", ["locale"] = "nl-NL", ["emailConsent"] = random.Next(2) == 0 };
            e["properties"] = type switch
            {
                "order_placed" => new JsonObject { ["orderId"] = $"o-{i}", ["total"] = 10 + random.Next(200), ["currency"] = "EUR" },
                "cart_updated" or "cart_abandoned" or "checkout_started" => new JsonObject { ["cartId"] = $"{idPrefix}cart-{c}", ["cartValue"] = 5 + random.Next(300) },
                _ => new JsonObject { ["sku"] = $"SKU-{random.Next(500)}" },
            };
            e["context"] = new JsonObject { ["channel"] = "web", ["device"] = random.Next(2) == 0 ? "mobile" : "desktop" };
            list.Add((type, System.Text.Encoding.UTF8.GetBytes(e.ToJsonString())));
        }
        return list;
    }
}
