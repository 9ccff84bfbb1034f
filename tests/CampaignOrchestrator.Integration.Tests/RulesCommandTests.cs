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
                  - action: { kind: email, template: thanks }
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
                    action: { kind: email, template: hi }
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
}
