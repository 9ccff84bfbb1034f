using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Worker.Commands;

/// <summary>
/// <c>rules preview --rules PATH [--days 7] [--url URL]</c>: a client of a running worker (key from <c>CAMPAIGN_API_KEY</c>):
/// checks the rules here, uploads them to <c>POST /api/rules/preview</c>, follows the worker's progress and prints per
/// campaign what the rules in force and the proposal would have done over the stored events of those days, the difference,
/// and example customers. Exit 0, 1 (refused or failed), 2 (usage).
/// </summary>
internal static class PreviewCommand
{
    const string Usage = "usage: rules preview --rules PATH [--days N] [--url URL]   (a running worker; the key from CAMPAIGN_API_KEY)";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors, HttpMessageHandler? handler = null, TimeSpan? poll = null)
    {
        string? Option(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var path = Option("--rules");
        var days = Option("--days") ?? "7";
        var key = Environment.GetEnvironmentVariable("CAMPAIGN_API_KEY");
        if (path is null || !int.TryParse(days, out _) || CommandLine.WorkerUrl(Option("--url")) is not { } url)
        {
            errors.WriteLine(Usage);
            return 2;
        }
        if (string.IsNullOrWhiteSpace(key))
        {
            errors.WriteLine("CAMPAIGN_API_KEY is not set: export the API key to use (a marketer's or admin's)");
            return 2;
        }
        if (RulesCommand.Load(path, errors, RulesCommand.Templates(null, errors, out _)) is null)
            return 1;
        var files = Directory.Exists(path) ? Directory.GetFiles(path).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray() : [path];
        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = url;
        http.Timeout = TimeSpan.FromSeconds(30);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var form = new MultipartFormDataContent();
        foreach (var file in files)
            form.Add(new StringContent(await File.ReadAllTextAsync(file)), "files", Path.GetFileName(file));
        try
        {
            var started = await http.PostAsync($"/api/rules/preview?days={days}", form);
            var job = JsonNode.Parse(await started.Content.ReadAsStringAsync());
            if (!started.IsSuccessStatusCode)
            {
                errors.WriteLine($"{(int)started.StatusCode} {job?["title"]}: {job?["detail"]}");
                foreach (var e in job?["errors"]?.AsArray() ?? [])
                    errors.WriteLine($"  {e?["text"]}");
                return 1;
            }
            var id = (string)job!["id"]!;
            var shown = -1.0;
            while ((string?)job!["status"] == "running")
            {
                await Task.Delay(poll ?? TimeSpan.FromSeconds(1));
                job = JsonNode.Parse(await http.GetStringAsync($"/api/rules/preview/{id}"));
                var progress = (double?)job!["progress"] ?? 0;
                if (progress - shown >= 0.1 || (string?)job["status"] != "running")
                {
                    errors.WriteLine($"preview {id}: {progress:P0} of {(long?)job["totalEvents"] ?? 0:N0} events");
                    shown = progress;
                }
            }
            if (job["result"] is { } result)
                Print(result, output);
            if ((string?)job["status"] != "done")
            {
                // Stopped (its time budget) or cancelled: what it judged is printed above.
                errors.WriteLine(job["result"] is { } partial
                    ? $"preview {id} {job["status"]}: {job["error"]}; it judged {(long?)partial["judged"] ?? 0:N0} of {(long?)partial["events"] ?? 0:N0} events, up to {partial["judgedUntil"]}"
                    : $"preview {id} failed: {job["error"]}");
                return 1;
            }
            return 0;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            errors.WriteLine($"the worker at {url} cannot be reached: {ex.Message}");
            return 1;
        }
    }

    static void Print(JsonNode result, TextWriter output)
    {
        output.WriteLine($"Preview of {result["proposedVersion"]} against {result["currentVersion"]} in force: {(long)result["events"]!:N0} events " +
            $"from {result["from"]} to {result["to"]}, {result["seconds"]} s");
        string line(JsonNode o) => $"{o["scheduled"]} scheduled, {o["delivered"]} delivered, {o["suppressed"]} suppressed, {o["cancelled"]} cancelled, {o["pending"]} pending, {o["failed"]} failed";
        foreach (var c in result["campaigns"]!.AsArray())
        {
            output.WriteLine($"{c!["campaignId"]}{((bool)c["inCurrent"]! ? "" : " (new)")}{((bool)c["inProposed"]! ? "" : " (removed)")}");
            output.WriteLine($"  in force: {line(c["current"]!)}");
            output.WriteLine($"  proposed: {line(c["proposed"]!)}");
            output.WriteLine($"  change:   {line(c["difference"]!)}");
            foreach (var (name, what) in new[] { ("onlyCurrent", "no longer get it"), ("onlyProposed", "would get it only now"), ("changed", "would end differently") })
                if ((int)c[name]!["count"]! > 0)
                    output.WriteLine($"  {c[name]!["count"]} customer(s) {what}, e.g. {string.Join(", ", c[name]!["examples"]!.AsArray().Select(e => (string?)e))}");
        }
    }
}
