using System.Text.RegularExpressions;

namespace CampaignOrchestrator.Core.Tests;

/// <summary>
/// The Infrastructure folders are layers (docs/decisions/0007-one-home-per-stage.md): each may use only the folders
/// before it, so the code reads in the order an event lives. Read from the source, as a newcomer would.
/// </summary>
public partial class LayeringTests
{
    static readonly string[] Layers = ["Storage", "Messaging", "Rules", "Actions", "Campaigns", "Channels", "Journeys", "Privacy"];

    [GeneratedRegex(@"CampaignOrchestrator\.Infrastructure\.(?<folder>[A-Z][A-Za-z]+)\b|\bInfrastructure\.(?<folder>[A-Z][A-Za-z]+)\.[A-Z]")]
    private static partial Regex Reference();

    [Fact]
    public void Each_infrastructure_folder_uses_only_the_folders_before_it()
    {
        var root = Path.Combine(RepositoryRoot(), "src", "CampaignOrchestrator.Infrastructure");
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).ToList();
        Assert.Equal(Layers.Order(), folders.Order());   // a new folder takes a place in the order first
        var wrong = new List<string>();
        for (var i = 0; i < Layers.Length; i++)
            foreach (var file in Directory.GetFiles(Path.Combine(root, Layers[i]), "*.cs", SearchOption.AllDirectories))
                foreach (Match m in Reference().Matches(File.ReadAllText(file)))
                {
                    var used = m.Groups["folder"].Value;
                    if (used != Layers[i] && Array.IndexOf(Layers, used) is var at && at >= 0 && at > i)
                        wrong.Add($"{Path.GetRelativePath(root, file)} uses {used}");
                }
        Assert.Empty(wrong.Distinct());
    }

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CampaignOrchestrator.sln")))
                return dir.FullName;
        throw new InvalidOperationException("the repository root (CampaignOrchestrator.sln) was not found above " + AppContext.BaseDirectory);
    }
}
