using System.Text.Json;
using CampaignOrchestrator.Contracts.Inbound;

namespace CampaignOrchestrator.Worker.Demo;

/// <summary>Three realistic journeys: a cross-device buyer, a repeat buyer, and a browsing device.</summary>
internal static class DemoJourneys
{
    public static IReadOnlyList<JourneyEvent> Create(DateTimeOffset now)
    {
        var list = new List<JourneyEvent>();
        void Add(string type, TimeSpan ago, string? customerId, string? anonymousId, object? traits = null, object? properties = null, object? context = null) =>
            list.Add(new JourneyEvent
            {
                EventId = $"demo-{list.Count + 1}", // stable: running the demo again changes nothing
                Type = type,
                OccurredAt = now - ago,
                CustomerId = customerId,
                AnonymousId = anonymousId,
                Traits = ToMap(traits),
                Properties = ToMap(properties),
                Context = ToMap(context),
            });

        // Anna browses on her phone, logs in on her laptop and buys: one journey (cross-device).
        Add("ad_clicked", TimeSpan.FromDays(3), null, "demo-phone-anna", context: new { channel = "ad", device = "mobile", source = "google-ads" });
        Add("product_viewed", TimeSpan.FromDays(3) - TimeSpan.FromMinutes(4), null, "demo-phone-anna", properties: new { sku = "SHOE-42", name = "Runner" });
        Add("identified", TimeSpan.FromDays(1), "demo-anna", "demo-laptop-anna",
            traits: new { email = "anna@example.com", firstName = "Anna", locale = "nl-NL", timeZone = "Europe/Amsterdam", emailConsent = true },
            context: new { channel = "web", device = "desktop" });
        Add("identified", TimeSpan.FromDays(1) - TimeSpan.FromMinutes(1), "demo-anna", "demo-phone-anna", context: new { channel = "app", device = "mobile" });
        Add("cart_updated", TimeSpan.FromHours(20), "demo-anna", "demo-laptop-anna", properties: new { cartId = "cart-anna-1", cartValue = 89.95, currency = "EUR" });
        Add("order_placed", TimeSpan.FromHours(19), "demo-anna", null,
            properties: new { orderId = "order-1001", total = 89.95, currency = "EUR", items = new[] { new { sku = "SHOE-42", name = "Runner", price = 89.95, quantity = 1 } } });
        Add("order_delivered", TimeSpan.FromHours(2), "demo-anna", null, properties: new { orderId = "order-1001" });

        // Bram buys twice and becomes loyal.
        Add("newsletter_signup", TimeSpan.FromDays(40), "demo-bram", null, traits: new { email = "bram@example.com", firstName = "Bram", locale = "en-GB", emailConsent = true });
        Add("order_placed", TimeSpan.FromDays(30), "demo-bram", null, properties: new { orderId = "order-2001", total = 45.00, currency = "EUR" });
        Add("order_delivered", TimeSpan.FromDays(28), "demo-bram", null, properties: new { orderId = "order-2001" });
        Add("order_placed", TimeSpan.FromDays(2), "demo-bram", null, properties: new { orderId = "order-2002", total = 120.50, currency = "EUR" });

        // Chloe's device browses and leaves a cart; nobody has logged in on it yet.
        Add("page_viewed", TimeSpan.FromHours(5), null, "demo-device-chloe", context: new { channel = "web", device = "tablet" });
        Add("product_compared", TimeSpan.FromHours(4), null, "demo-device-chloe", properties: new { skus = new[] { "BAG-1", "BAG-2" } });
        Add("cart_abandoned", TimeSpan.FromHours(3), null, "demo-device-chloe", properties: new { cartId = "cart-chloe-1", cartValue = 59.00, currency = "EUR" });
        return list;
    }

    static IReadOnlyDictionary<string, JsonElement>? ToMap(object? value) =>
        value is null ? null : JsonSerializer.SerializeToElement(value, JsonSerializerOptions.Web).Deserialize<Dictionary<string, JsonElement>>();
}
