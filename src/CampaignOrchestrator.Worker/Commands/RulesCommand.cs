using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Rules;

namespace CampaignOrchestrator.Worker.Commands;

/// <summary>
/// <c>rules simulate ...</c>: the dry run (<see cref="SimulateCommand"/>); <c>rules preview ...</c>: a change tried on the
/// stored events by a running worker (<see cref="PreviewCommand"/>); <c>rules rollback VERSION</c>: an earlier version back in
/// force on a running worker (<see cref="ApiCommand"/>).
/// <c>rules validate PATH</c>: checks a rules file or folder without starting the worker (for CI and
/// editors). Prints every error as <c>file:line:column campaign 'id': what is wrong; what is allowed</c>
/// and exits 1, or prints the campaigns and the version and exits 0.
/// </summary>
internal static class RulesCommand
{
    public static bool Handles(string[] args) => args.Length > 0 && args[0] == "rules";

    public static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        if (args.Length > 1 && args[1] == "simulate")
            return SimulateCommand.RunAsync(args, output, errors).GetAwaiter().GetResult();
        if (args.Length > 1 && args[1] == "preview")
            return PreviewCommand.RunAsync(args, output, errors).GetAwaiter().GetResult();
        if (args.Length > 1 && args[1] == "rollback")
            return ApiCommand.RunAsync(args, output, errors).GetAwaiter().GetResult();
        if (args.Length != 3 || args[1] != "validate")
        {
            errors.WriteLine("usage: rules validate PATH   (a rules .yaml file or a folder of them)");
            errors.WriteLine("       rules simulate --rules PATH --events FILE.jsonl [--until DURATION]");
            errors.WriteLine("       rules preview --rules PATH [--days N] [--url URL]");
            errors.WriteLine("       rules rollback VERSION [--url URL]   (puts an earlier version back in force; the key from CAMPAIGN_API_KEY)");
            return 2;
        }
        if (Load(args[2], errors) is not { } loaded)
            return 1;
        output.WriteLine($"valid: {loaded.Rules.Campaigns.Count} campaigns in {loaded.Files.Count} file(s), version {loaded.Version}");
        foreach (var campaign in loaded.Rules.Campaigns)
            output.WriteLine($"  {campaign.Id}: {campaign.Trigger.Describe()}, {campaign.Steps.Count} step(s){(campaign.Transactional ? ", transactional" : "")}");
        return 0;
    }

    /// <summary>Loads the rules at <paramref name="path"/>, or prints every error (and how many) and returns null.</summary>
    internal static LoadedRules? Load(string path, TextWriter errors)
    {
        try
        {
            return RulesFiles.Load(path);
        }
        catch (RulesRejectedException ex)
        {
            foreach (var error in ex.Errors)
                errors.WriteLine(error);
            errors.WriteLine($"refused: {ex.Errors.Count} error(s)");
        }
        catch (FileNotFoundException ex)
        {
            errors.WriteLine(ex.Message);
        }
        return null;
    }
}
