using CampaignOrchestrator.Worker.Commands;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary><c>rules validate PATH</c>, as a marketer or a CI job runs it, on real files.</summary>
public sealed class RulesCommandTests
{
    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CampaignOrchestrator.sln")))
                return dir.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        var exit = RulesCommand.Run(args, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    [Fact]
    public void The_shipped_default_journeys_are_valid()
    {
        var (exit, output, errors) = Run("rules", "validate", Path.Combine(RepositoryRoot(), "rules"));
        Assert.True(exit == 0, errors);
        Assert.StartsWith("valid: 9 campaigns in 1 file(s), version ", output);
        foreach (var id in new[] { "award-banner", "benefits-banner", "offer-banner", "cart-recovery", "order-confirmation",
                     "care-after-delivery", "review-request", "loyalty-invitation", "win-back" })
            Assert.Contains($"  {id}: ", output);
    }

    [Fact]
    public void A_folder_is_one_rule_set_and_an_error_in_any_file_refuses_it_all()
    {
        var folder = Directory.CreateTempSubdirectory("co-rules-").FullName;
        File.WriteAllText(Path.Combine(folder, "a.yaml"), """
            defaults: { timeZone: Europe/Amsterdam }
            campaigns:
              - id: welcome
                trigger: { phaseEntered: awareness }
                steps:
                  - action: { kind: banner, slot: home-hero, creative: hello }
            """);
        File.WriteAllText(Path.Combine(folder, "b.yml"), """
            campaigns:
              - id: thanks
                trigger: { event: order_placed }
                transactional: true
                steps:
                  - action: { kind: email, template: order-confirmation }
            """);
        var (exit, output, _) = Run("rules", "validate", folder);
        Assert.Equal(0, exit);
        Assert.StartsWith("valid: 2 campaigns in 2 file(s)", output);

        File.WriteAllText(Path.Combine(folder, "c.yaml"), """
            defaults: { timeZone: UTC }
            campaigns:
              - id: welcome
                trigger: { event: page_viewed }
                steps:
                  - delay: 2 hours
                    action: { kind: email, template: we-miss-you }
            """);
        (exit, _, var errors) = Run("rules", "validate", folder);
        Assert.Equal(1, exit);
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.Contains("c.yaml:1:11: defaults are already set in ", StringComparison.Ordinal) && l.EndsWith("a.yaml; set them in one file", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("c.yaml:6:16 campaign 'welcome': delay '2 hours' is not a duration", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("c.yaml:3:5 campaign 'welcome': campaign id 'welcome' is used twice (also in", StringComparison.Ordinal));
        Assert.Equal("refused: 3 error(s)", lines[^1]);
    }

    [Fact]
    public void A_missing_path_or_a_wrong_call_says_so()
    {
        var (exit, _, errors) = Run("rules", "validate", "/nonexistent/rules");
        Assert.Equal(1, exit);
        Assert.Contains("No rules file or folder at '/nonexistent/rules'", errors);
        (exit, _, errors) = Run("rules", "check");
        Assert.Equal(2, exit);
        Assert.Contains("usage: rules validate PATH", errors);
    }

    [Fact]
    public void Simulate_replays_a_journey_on_the_default_rules_and_says_what_would_happen_and_why()
    {
        var root = RepositoryRoot();
        var events = Path.Combine(Directory.CreateTempSubdirectory("co-sim-").FullName, "events.jsonl");
        File.WriteAllLines(events, [.. File.ReadAllLines(Path.Combine(root, "docs", "examples", "anna.jsonl")), "this is not json"]);

        var (exit, output, errors) = Run("rules", "simulate", "--rules", Path.Combine(root, "rules"), "--events", events, "--until", "100d");

        Assert.True(exit == 0, errors);
        Assert.Contains("events.jsonl:9: left out: body is not valid JSON", errors);
        var lines = output.Split('\n').Select(l => l.TrimEnd()).ToList();
        string Line(string contains) => lines.FirstOrDefault(l => l.Contains(contains)) ?? throw new Xunit.Sdk.XunitException($"no line with '{contains}' in:\n{output}");
        // The cart: reminder after an hour, but at 21:30 it waits for the send window; the purchase cancels the offer.
        Assert.StartsWith("2026-11-20 20:30:00 +01:00", Line("cart-recovery step 1 email (template cart-reminder): scheduled for 2026-11-20 21:30:00 +01:00"));
        Assert.StartsWith("2026-11-20 21:30:00 +01:00", Line("cart-recovery step 1 email (template cart-reminder): deferred to 2026-11-21 08:00:00 +01:00 (window)"));
        Assert.StartsWith("2026-11-21 08:00:00 +01:00", Line("cart-recovery step 1 email (template cart-reminder): would be delivered to anna"));
        Assert.StartsWith("2026-11-21 12:00:00 +01:00", Line("cart-recovery step 3 offer (template cart-offer, discountPercent 10): cancelled, exit: order_placed"));
        Line("cart-recovery step 2 retargeting (audience cart-abandoners, op leave): would be delivered to anna");
        // Ben's cart is too small, and the condition says so.
        Line("cart-recovery: not started for ben, conditions not met: properties.cartValue gte 25 (it is 12)");
        // Browsing on the phone before logging in: the device got the first banners.
        Line("award-banner step 1 banner (creative award-2026): would be delivered to device phone-7");
        Assert.StartsWith("2026-11-21 12:00:00 +01:00", Line("order-confirmation step 1 email (template order-confirmation): would be delivered to anna"));
        Assert.StartsWith("2026-12-01 10:00:00 +01:00", Line("review-request step 1 email (template review-request): would be delivered to anna"));
        Assert.StartsWith("2027-01-22 15:00:00 +01:00", Line("win-back step 1 email (template we-miss-you): would be delivered to anna"));
        Assert.Contains("  cart-recovery: 1 cancelled, 3 delivered", output);
    }

    [Fact]
    public void The_default_loyalty_invitation_goes_to_who_became_loyal_not_to_who_joined_the_programme()
    {
        var events = Path.Combine(Directory.CreateTempSubdirectory("co-sim-").FullName, "events.jsonl");
        static string E(string id, string type, string at, string customer, string? properties = null) =>
            $$"""{"eventId":"{{id}}","type":"{{type}}","occurredAt":"{{at}}","customerId":"{{customer}}","traits":{"emailConsent":true}{{(properties is null ? "" : ",\"properties\":" + properties)}}}""";
        File.WriteAllLines(events, [
            // Two orders: loyal by buying again; the invitation goes a day later.
            E("k-1", "order_placed", "2026-11-02T10:00:00+01:00", "kees", """{"orderId":"o-1","total":40}"""),
            E("k-2", "order_placed", "2026-11-09T10:00:00+01:00", "kees", """{"orderId":"o-2","total":30}"""),
            // Joined the programme on the shop: loyal, and already a member.
            E("l-1", "order_placed", "2026-11-02T10:00:00+01:00", "lot", """{"orderId":"o-3","total":40}"""),
            E("l-2", "loyalty_joined", "2026-11-09T10:00:00+01:00", "lot"),
            // Loyal by a second order, then joined on their own before the invitation went: cancelled.
            E("m-1", "order_placed", "2026-11-02T10:00:00+01:00", "mia", """{"orderId":"o-4","total":40}"""),
            E("m-2", "order_placed", "2026-11-09T10:00:00+01:00", "mia", """{"orderId":"o-5","total":30}"""),
            E("m-3", "loyalty_joined", "2026-11-09T18:00:00+01:00", "mia"),
        ]);

        var (exit, output, errors) = Run("rules", "simulate", "--rules", Path.Combine(RepositoryRoot(), "rules"), "--events", events, "--until", "3d");

        Assert.True(exit == 0, errors);
        var invitations = output.Split('\n').Where(l => l.Contains("loyalty-invitation", StringComparison.Ordinal)).ToList();
        Assert.Contains(invitations, l => l.Contains("would be delivered to kees", StringComparison.Ordinal));
        Assert.Contains(invitations, l => l.Contains("not started for lot, conditions not met: event.type ne", StringComparison.Ordinal));
        Assert.Contains(invitations, l => l.Contains("cancelled, exit: loyalty_joined", StringComparison.Ordinal));
        Assert.DoesNotContain(invitations, l => l.Contains("delivered to lot", StringComparison.Ordinal) || l.Contains("delivered to mia", StringComparison.Ordinal));
    }

    [Fact]
    public void Simulate_says_how_to_call_it()
    {
        var (exit, _, errors) = Run("rules", "simulate", "--rules", "rules");
        Assert.Equal(2, exit);
        Assert.Contains("usage: rules simulate --rules PATH --events FILE.jsonl", errors);
    }
}
