using System.Security.Cryptography;
using System.Text;

namespace CampaignOrchestrator.Core.Journeys;

/// <summary>
/// An email address as the worker keeps it where the address itself must not be: the hex SHA-256 of the normalised address
/// (trimmed, lower case), as the ad platforms' customer lists take it. The suppression list, the audiences and the lookup
/// by email use it.
/// </summary>
public static class EmailHash
{
    public static string Of(string address) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(address.Trim().ToLowerInvariant())));
}
