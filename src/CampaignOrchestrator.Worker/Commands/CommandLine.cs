namespace CampaignOrchestrator.Worker.Commands;

/// <summary>What the commands share: the usage of all of them, telling a command from the worker's own arguments, the
/// worker's address, and files of personal data.</summary>
internal static class CommandLine
{
    public const string Usage = """
        usage: CampaignOrchestrator.Worker [--demo] [Section:Key=Value ...]   runs the worker
               rules validate PATH | rules simulate ... | rules preview ... | rules rollback VERSION
               keys create --name NAME --role ROLE
               errors list | errors replay ID... | errors replay --all | errors delete ID
               actions list (--campaign ID | --customer ID) | actions cancel (ACTION_ID | --campaign ID)
               customers show ID | customers find (--email ADDRESS | --anonymous-id ID)
               customers export ID [--out FILE] | customers erase ID --yes
        options of the API commands: --url URL (default http://127.0.0.1:5080), --json; the key comes from CAMPAIGN_API_KEY
        """;

    /// <summary>
    /// True when the arguments are no command any handler takes: the first is a word (not an option such as <c>--demo</c>,
    /// nor a setting such as <c>Storage:Provider=Postgres</c>). Then the worker must not start with its defaults.
    /// </summary>
    public static bool IsUnknownCommand(string[] args) =>
        args.Length > 0 && !args[0].StartsWith('-') && !args[0].StartsWith('/') && !args[0].Contains('=');

    /// <summary>The worker's address from <c>--url</c> (default http://127.0.0.1:5080): an absolute http(s) address, or null.</summary>
    public static Uri? WorkerUrl(string? option) =>
        Uri.TryCreate(option ?? "http://127.0.0.1:5080", UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url : null;

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> readable and writable by its owner only (it holds
    /// personal data): a new file is made so, an existing one is narrowed before it is written.</summary>
    public static async Task WritePrivateAsync(string path, string text)
    {
        var ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!OperatingSystem.IsWindows() && File.Exists(path))
            File.SetUnixFileMode(path, ownerOnly);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = ownerOnly;
        await using var stream = new FileStream(path, options);
        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync(text);
    }
}
