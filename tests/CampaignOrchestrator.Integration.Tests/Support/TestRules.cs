namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>Rules more than one test class runs on, written once.</summary>
internal static class TestRules
{
    /// <summary>The order confirmation: one transactional email per order.</summary>
    public const string OrderConfirmation = """
        campaigns:
          - id: order-confirmation
            trigger: { event: order_placed }
            transactional: true
            steps:
              - action: { kind: email, template: order-confirmation }
        """;

    /// <summary>A cart recovery: a banner at once, an email two days later; an order ends it (per cart).</summary>
    public const string CartRecoveryBannerThenEmail = """
        campaigns:
          - id: cart-recovery
            trigger: { event: cart_abandoned }
            key: properties.cartId
            exitOn: [order_placed]
            steps:
              - action: { kind: banner, slot: home-hero, creative: come-back }
              - delay: 2d
                action: { kind: email, template: cart-reminder }
        """;
}
