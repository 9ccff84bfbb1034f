using System.Security.Cryptography;
using System.Text;
using CampaignOrchestrator.Infrastructure.Channels;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Security;

/// <summary>
/// Finds the configured key a request presents. Keys are held only as SHA-256 hashes: the presented key is hashed and
/// compared with every configured hash in constant time (no early exit, so timing says nothing about which was close).
/// The webshop's older <c>Placements:ApiKey</c> counts as a key named <c>placements</c> with the placement role.
/// </summary>
internal sealed class ApiKeys(IOptions<SecurityOptions> security, IOptions<PlacementOptions> placements)
{
    readonly (string Name, byte[] Hash, string Role)[] _keys = security.Value.ApiKeys
        .Select(k => (k.Key, Convert.FromHexString(k.Value.Sha256), k.Value.Role)).ToArray();

    /// <summary>No key is configured: the API refuses everything but health.</summary>
    public bool None => _keys.Length == 0 && string.IsNullOrEmpty(placements.Value.ApiKey);

    /// <summary>The key's name and role, or null when <paramref name="presented"/> matches none.</summary>
    public (string Name, string Role)? Find(string presented)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        (string, string)? found = null;
        foreach (var (name, keyHash, role) in _keys)
            if (CryptographicOperations.FixedTimeEquals(hash, keyHash))
                found = (name, role);
        if (found is null && placements.Value.Accepts(presented))
            found = ("placements", ApiRoles.Placement);
        return found;
    }

    /// <summary>Whether a key named <paramref name="name"/> with <paramref name="role"/> is still configured (a dashboard session's check).</summary>
    public bool Has(string name, string role) =>
        _keys.Any(k => k.Name == name && k.Role == role) || (name == "placements" && role == ApiRoles.Placement && !string.IsNullOrEmpty(placements.Value.ApiKey));

    /// <summary>A new random key (256 bits, URL-safe) and its hash as it goes into the configuration.</summary>
    public static (string Key, string Sha256) Create()
    {
        var key = "co_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (key, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));
    }
}
