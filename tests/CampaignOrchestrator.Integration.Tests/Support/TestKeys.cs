using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>One API key per role, configured on every test worker (only as hashes, as an operator would).</summary>
internal static class TestKeys
{
    public const string Admin = "co_test-admin-0000000000000000000000000";
    public const string Marketer = "co_test-marketer-00000000000000000000000";
    public const string Viewer = "co_test-viewer-000000000000000000000000";
    public const string Placement = "co_test-placement-0000000000000000000000";

    /// <summary>The configuration: <c>Security:ApiKeys:&lt;role&gt;-key:Sha256</c> and <c>:Role</c> for each.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Settings(string separator = ":")
    {
        foreach (var (role, key) in new[] { ("admin", Admin), ("marketer", Marketer), ("viewer", Viewer), ("placement", Placement) })
        {
            yield return new($"Security{separator}ApiKeys{separator}{role}-key{separator}Sha256", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));
            yield return new($"Security{separator}ApiKeys{separator}{role}-key{separator}Role", role);
        }
    }

    /// <summary>A client that presents <paramref name="key"/> (null: none) on every request.</summary>
    public static HttpClient Client(Uri baseAddress, string? key, TimeSpan timeout)
    {
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = timeout };
        if (key is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }
}
