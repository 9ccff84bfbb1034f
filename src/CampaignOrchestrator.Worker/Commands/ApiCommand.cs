using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Worker.Commands;

/// <summary>
/// The operator CLI on the worker binary, for scripts: a client of a running worker's API.
/// <c>errors list|replay ID...|replay --all|delete ID</c>, <c>actions list --campaign ID|--customer ID</c>,
/// <c>actions cancel ACTION_ID|--campaign ID</c>, <c>customers show|export ID</c>, <c>customers find --email ADDRESS|--anonymous-id ID</c>, <c>customers erase ID --yes</c>; <c>--url</c> (default http://127.0.0.1:5080) and
/// the key from <c>CAMPAIGN_API_KEY</c>; <c>--json</c> prints the API's answer as it came. Exit 0, 1 (refused or failed:
/// the reason is printed), 2 (usage).
/// </summary>
internal static class ApiCommand
{
    static readonly string[] Groups = ["errors", "actions", "customers"];

    public static bool Handles(string[] args) => args.Length > 0 && Groups.Contains(args[0]);

    const string Usage = """
        usage: errors list | errors replay ID... | errors replay --all | errors delete ID
               actions list (--campaign ID | --customer ID) | actions cancel (ACTION_ID | --campaign ID)
               customers show ID | customers find (--email ADDRESS | --anonymous-id ID)
               customers export ID [--out FILE] | customers erase ID --yes
               rules rollback VERSION
        options: --url URL (default http://127.0.0.1:5080), --json; the API key comes from CAMPAIGN_API_KEY
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors, HttpMessageHandler? handler = null)
    {
        string? Option(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var json = args.Contains("--json");
        var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || !args[i - 1].StartsWith("--", StringComparison.Ordinal)
            || args[i - 1] is "--json" or "--all" or "--yes")).ToArray();
        var key = Environment.GetEnvironmentVariable("CAMPAIGN_API_KEY");
        if (string.IsNullOrWhiteSpace(key))
        {
            errors.WriteLine("CAMPAIGN_API_KEY is not set: export the API key to use (keys create makes one)");
            return 2;
        }
        if (CommandLine.WorkerUrl(Option("--url")) is not { } url)
        {
            errors.WriteLine("--url must be an absolute http(s) address");
            return 2;
        }
        var request = (positional.ElementAtOrDefault(0), positional.ElementAtOrDefault(1)) switch
        {
            ("errors", "list") => Get("/api/errors"),
            ("errors", "replay") when args.Contains("--all") => Post("/api/errors/replay", new { all = true }),
            ("errors", "replay") when positional.Length > 2 => Post("/api/errors/replay", new { ids = positional[2..] }),
            ("errors", "delete") when positional.Length == 3 => new HttpRequestMessage(HttpMethod.Delete, $"/api/errors/{Uri.EscapeDataString(positional[2])}"),
            ("actions", "list") when Option("--campaign") is { } c => Get($"/api/actions?campaign={Uri.EscapeDataString(c)}"),
            ("actions", "list") when Option("--customer") is { } c => Get($"/api/actions?customer={Uri.EscapeDataString(c)}"),
            ("actions", "cancel") when Option("--campaign") is { } c => Post($"/api/campaigns/{Uri.EscapeDataString(c)}/cancel", null),
            ("actions", "cancel") when positional.Length == 3 => Post($"/api/actions/{Uri.EscapeDataString(positional[2])}/cancel", null),
            ("rules", "rollback") when positional.Length == 3 => Post($"/api/rules/versions/{Uri.EscapeDataString(positional[2])}/activate", null),
            ("customers", "show") when positional.Length == 3 => Get($"/api/customers/{Uri.EscapeDataString(positional[2])}"),
            // The address is hashed here: it never travels in a URL.
            ("customers", "find") when Option("--email") is { } e => Get($"/api/customers?emailSha256={Core.Journeys.EmailHash.Of(e)}"),
            ("customers", "find") when Option("--anonymous-id") is { } a => Get($"/api/customers?anonymousId={Uri.EscapeDataString(a)}"),
            ("customers", "export") when positional.Length == 3 => Get($"/api/customers/{Uri.EscapeDataString(positional[2])}/export"),
            // Erasure cannot be undone: a script says so with --yes.
            ("customers", "erase") when positional.Length == 3 && args.Contains("--yes") =>
                new HttpRequestMessage(HttpMethod.Delete, $"/api/customers/{Uri.EscapeDataString(positional[2])}"),
            _ => null,
        };
        if (request is null)
        {
            errors.Write(Usage);
            return 2;
        }
        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = url;
        http.Timeout = TimeSpan.FromSeconds(30);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            errors.WriteLine($"the worker at {url} cannot be reached: {ex.Message}");
            return 1;
        }
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            var problem = TryParse(body);
            errors.WriteLine($"{(int)response.StatusCode} {problem?["title"] ?? response.ReasonPhrase}: {problem?["detail"] ?? body}");
            return 1;
        }
        var shown = json || TryParse(body) is not { } node ? body : node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        if (Option("--out") is { } file)
        {
            await CommandLine.WritePrivateAsync(file, shown);
            output.WriteLine($"written to {file}");
        }
        else
            output.WriteLine(shown);
        return 0;

        static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);
        static HttpRequestMessage Post(string path, object? content) => new(HttpMethod.Post, path) { Content = content is null ? null : JsonContent.Create(content) };
    }

    static JsonNode? TryParse(string body)
    {
        try { return JsonNode.Parse(body); }
        catch (JsonException) { return null; }
    }
}
