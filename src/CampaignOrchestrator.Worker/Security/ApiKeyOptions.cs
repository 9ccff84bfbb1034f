namespace CampaignOrchestrator.Worker.Security;

/// <summary>
/// The <c>Security</c> section: API keys by name, each configured only as the SHA-256 of the key
/// (<c>Security:ApiKeys:&lt;name&gt;:Sha256</c>, lower-case hex) and a role (<c>Security:ApiKeys:&lt;name&gt;:Role</c>).
/// <c>keys create --name N --role R</c> makes a key and prints the two lines.
/// </summary>
public sealed class SecurityOptions
{
    public const string SectionName = "Security";

    public Dictionary<string, ApiKeyOptions> ApiKeys { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One API key: its hash and role.</summary>
public sealed class ApiKeyOptions
{
    public string Sha256 { get; set; } = "";

    public string Role { get; set; } = "";
}
