using System.Security.Cryptography;
using System.Text;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>The <c>Placements</c> section: the webshop's read access to banners.</summary>
public sealed class PlacementOptions
{
    public const string SectionName = "Placements";

    /// <summary>The key the webshop sends in <c>X-Api-Key</c> (read-only: it reads placements and nothing else).
    /// Set it from the environment (<c>Placements__ApiKey</c>); unset, every read is refused.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The creative a slot shows when no campaign has assigned one (or it expired), by slot.</summary>
    public Dictionary<string, string> Defaults { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="presented"/> is the configured key (compared in constant time).</summary>
    public bool Accepts(string? presented) =>
        !string.IsNullOrEmpty(ApiKey) && presented is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(ApiKey));
}
