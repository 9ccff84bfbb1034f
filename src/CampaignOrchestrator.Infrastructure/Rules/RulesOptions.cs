namespace CampaignOrchestrator.Infrastructure.Rules;

/// <summary>The <c>Rules</c> section.</summary>
public sealed class RulesOptions
{
    public const string SectionName = "Rules";

    /// <summary>A rules .yaml file or a folder of them. A relative path is looked up from the current
    /// folder, then from the worker's own folder (which ships <c>rules/</c>).</summary>
    public string Path { get; set; } = "rules";

    /// <summary>Reload when the files change, keeping the last valid rules when a change is refused.</summary>
    public bool Watch { get; set; } = true;

    /// <summary>The path as found: absolute, or null when nothing is there.</summary>
    public string? Resolve()
    {
        if (System.IO.Path.IsPathRooted(Path))
            return File.Exists(Path) || Directory.Exists(Path) ? Path : null;
        foreach (var root in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, Path));
            if (File.Exists(candidate) || Directory.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
