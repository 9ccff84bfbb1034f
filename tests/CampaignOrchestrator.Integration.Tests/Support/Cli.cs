using CampaignOrchestrator.Worker.Commands;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>The operator CLI as a script runs it: the key in CAMPAIGN_API_KEY (restored after), what it printed, its exit code.</summary>
internal static class Cli
{
    public static async Task<(int Exit, string Output, string Errors)> RunAsync(string? key, params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        var before = Environment.GetEnvironmentVariable("CAMPAIGN_API_KEY");
        Environment.SetEnvironmentVariable("CAMPAIGN_API_KEY", key);
        try
        {
            var exit = args.Length > 0 && args[0] == "rules" ? RulesCommand.Run(args, output, errors) : await ApiCommand.RunAsync(args, output, errors);
            return (exit, output.ToString(), errors.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable("CAMPAIGN_API_KEY", before);
        }
    }
}
