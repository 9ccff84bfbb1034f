namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>A rules folder of a test class's own (<c>Rules:Path</c>) holding one file; gone when xunit disposes the class.</summary>
internal sealed class RulesFolder : IDisposable
{
    public RulesFolder(string fileName, string yaml)
    {
        Path = Directory.CreateTempSubdirectory("co-rules-").FullName;
        File.WriteAllText(System.IO.Path.Combine(Path, fileName), yaml);
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
