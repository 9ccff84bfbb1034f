using CampaignOrchestrator.Worker.Security;

namespace CampaignOrchestrator.Worker.Commands;

/// <summary>
/// <c>keys create --name NAME --role ROLE</c>: makes a new random API key, prints it once, and prints the two
/// configuration lines that give it its role (only its SHA-256 is ever configured). Exit 0, or 2 for bad usage.
/// </summary>
internal static class KeysCommand
{
    public static bool Handles(string[] args) => args.Length > 0 && args[0] == "keys";

    public static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        string? Option(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var name = Option("--name");
        var role = Option("--role");
        if (args.Length < 2 || args[1] != "create" || name is null || role is null)
        {
            errors.WriteLine($"usage: keys create --name NAME --role ROLE   (ROLE: {string.Join(", ", ApiRoles.All)})");
            return 2;
        }
        var check = new SecurityOptionsValidator().Validate(null, new SecurityOptions
        {
            ApiKeys = { [name] = new ApiKeyOptions { Sha256 = new string('0', 64), Role = role } },
        });
        if (check.Failed)
        {
            foreach (var failure in check.Failures)
                errors.WriteLine(failure);
            return 2;
        }
        var (key, sha256) = ApiKeys.Create();
        output.WriteLine($"API key for '{name}' ({role}); it is shown only now, keep it where its user keeps secrets:");
        output.WriteLine();
        output.WriteLine($"  {key}");
        output.WriteLine();
        output.WriteLine("Give the worker these two settings (environment variables, or Security:ApiKeys:... in appsettings.json):");
        output.WriteLine();
        output.WriteLine($"Security__ApiKeys__{name}__Sha256={sha256}");
        output.WriteLine($"Security__ApiKeys__{name}__Role={role}");
        return 0;
    }
}
