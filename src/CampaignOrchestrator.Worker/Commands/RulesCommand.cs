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
        var templatesAt = Array.IndexOf(args, "--templates") is var t and >= 0 && t + 1 < args.Length ? args[t + 1] : null;
        var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || args[i - 1] != "--templates")).ToArray();
        if (positional.Length != 3 || positional[1] != "validate")
        {
            errors.WriteLine("usage: rules validate PATH [--templates FOLDER]   (a rules .yaml file or a folder of them; the templates default to Email:Templates)");
            errors.WriteLine("       rules simulate --rules PATH --events FILE.jsonl [--until DURATION]");
            errors.WriteLine("       rules preview --rules PATH [--days N] [--url URL]");
            errors.WriteLine("       rules rollback VERSION [--url URL]   (puts an earlier version back in force; the key from CAMPAIGN_API_KEY)");
            return 2;
        }
        var templates = Templates(templatesAt, errors, out var templatesProblem);
        if (templatesProblem)
            return 1;
        if (Load(positional[2], errors, templates) is not { } loaded)
            return 1;
        if (templates is null)
            output.WriteLine("templates not checked: no templates folder (--templates FOLDER)");
        output.WriteLine($"valid: {loaded.Rules.Campaigns.Count} campaigns in {loaded.Files.Count} file(s), version {loaded.Version}");
        foreach (var campaign in loaded.Rules.Campaigns)
            output.WriteLine($"  {campaign.Id}: {campaign.Trigger.Describe(Core.Phases.PhaseVocabulary.All.GetValueOrDefault(loaded.Rules.PhaseModelName))}, {campaign.Steps.Count} step(s){(campaign.Transactional ? ", transactional" : "")}");
        return 0;
    }

    /// <summary>Loads the rules at <paramref name="path"/>, or prints every error (and how many) and returns null.</summary>
    internal static LoadedRules? Load(string path, TextWriter errors, TemplateCatalog? templates = null)
    {
        try
        {
            return RulesFiles.Load(path, templates);
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

    /// <summary>The templates the rules are checked against: <paramref name="folder"/>, else Email:Templates' default folder when
    /// there is one (null: none). A folder that does not load is reported and <paramref name="failed"/> set.</summary>
    internal static TemplateCatalog? Templates(string? folder, TextWriter errors, out bool failed)
    {
        failed = false;
        var defaults = new Infrastructure.Channels.Email.EmailOptions();
        var resolved = folder ?? defaults.ResolveTemplates();
        if (resolved is null)
            return null;
        try
        {
            return Infrastructure.Channels.Email.EmailTemplates.Load(resolved, defaults.DefaultLocale).Catalog;
        }
        catch (Infrastructure.Channels.Email.EmailTemplatesRejectedException ex)
        {
            foreach (var error in ex.Errors)
                errors.WriteLine(error);
            failed = true;
            return null;
        }
    }
}
