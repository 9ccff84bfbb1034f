using System.Security.Cryptography;
using System.Text;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Infrastructure.Rules;

/// <summary>
/// Reads <c>Rules:Path</c>: one YAML file, or a folder whose <c>*.yaml</c> / <c>*.yml</c> files
/// (sorted by path, subfolders included) form one rule set.
/// </summary>
public static class RulesFiles
{
    /// <summary>Loads and checks the rules at <paramref name="path"/>.</summary>
    /// <exception cref="RulesRejectedException">Anything wrong in any file, with file:line:column.</exception>
    /// <exception cref="FileNotFoundException">The path names no file or folder, or a folder without rules files.</exception>
    /// <param name="templates">The installation's email templates (each <c>template:</c> is checked against them); null: not checked.</param>
    public static LoadedRules Load(string path, TemplateCatalog? templates = null)
    {
        var files = Find(path);
        var root = File.Exists(path) ? Path.GetDirectoryName(Path.GetFullPath(path))! : Path.GetFullPath(path);
        // Named relative to the rules folder: the same rules have the same version wherever they are read from.
        return Compile(files.Select(f => new RulesSource(Path.GetRelativePath(root, Path.GetFullPath(f)).Replace('\\', '/'), File.ReadAllText(f), Display(f))).ToList(),
            templates);
    }

    /// <summary>Checks rules given as text (an upload); the version is the one the same files would have on disk.</summary>
    /// <exception cref="RulesRejectedException">Anything wrong in any file, with file:line:column.</exception>
    public static LoadedRules Compile(IReadOnlyList<RulesSource> sources, TemplateCatalog? templates = null)
    {
        sources = sources.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();   // as a folder lists them
        var rules = RulesParser.ParseMany(sources.Select(s => (s.Shown ?? s.Name, s.Yaml)), templates);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var source in sources)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(source.Name + "\n"));
            sha.AppendData(Encoding.UTF8.GetBytes(source.Yaml + "\n"));
        }
        return new LoadedRules(rules, Convert.ToHexStringLower(sha.GetHashAndReset())[..12], sources.Select(s => s.Shown ?? s.Name).ToList())
        {
            Sources = sources.ToDictionary(s => s.Name, s => s.Yaml, StringComparer.Ordinal),
        };
    }

    static List<string> Find(string path)
    {
        if (File.Exists(path))
            return [path];
        if (!Directory.Exists(path))
            throw new FileNotFoundException($"No rules file or folder at '{path}' (Rules:Path)", path);
        var files = Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        return files.Count > 0 ? files : throw new FileNotFoundException($"The rules folder '{path}' holds no .yaml or .yml file (Rules:Path)", path);
    }

    // Paths in messages as the operator wrote them, relative to the current folder where possible.
    static string Display(string file)
    {
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), file);
        return relative.StartsWith("..", StringComparison.Ordinal) ? file : relative;
    }
}
