using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>The real worker as its own process (what infra/run.sh starts), on a free loopback port.</summary>
internal static class WorkerProcess
{
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Process, System.Collections.Concurrent.ConcurrentQueue<string>> Outputs = new();

    /// <summary>What the worker wrote to stdout and stderr so far, a line each.</summary>
    public static IReadOnlyCollection<string> Output(Process process) => Outputs.TryGetValue(process, out var lines) ? lines : [];

    /// <summary>Starts the worker with <paramref name="environment"/> over the test defaults and waits until it is healthy.</summary>
    /// <paramref name="workerDll"/>: another build of the worker (the previous release's), by default this one.
    public static async Task<(Process Process, HttpClient Http)> StartAsync(Dictionary<string, string> environment, string[]? wrapper = null,
        string? workerDll = null)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        // A wrapper runs the worker under another command (faketime, for a clock that is off).
        var psi = new ProcessStartInfo(wrapper?[0] ?? "dotnet", [.. wrapper?[1..] ?? [], .. wrapper is null ? Array.Empty<string>() : ["dotnet"],
            workerDll ?? Path.Combine(AppContext.BaseDirectory, "CampaignOrchestrator.Worker.dll")])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            Environment =
            {
                ["Bus__RabbitMq__Host"] = TestServers.RabbitHost,
                ["Bus__RabbitMq__Port"] = TestServers.RabbitPort.ToString(),
                ["Http__Urls"] = $"http://127.0.0.1:{port}",
                ["Logging__LogLevel__Default"] = "Warning",
            },
        };
        foreach (var (key, value) in TestKeys.Settings("__"))
            psi.Environment[key] = value;
        foreach (var (key, value) in environment)
            psi.Environment[key] = value;
        var process = Process.Start(psi)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Outputs.Add(process, output);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var http = TestKeys.Client(new Uri($"http://127.0.0.1:{port}"), TestKeys.Admin, TimeSpan.FromSeconds(5));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode)
                    return (process, http);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            Assert.False(process.HasExited, $"the worker exited with code {(process.HasExited ? process.ExitCode : 0)}: {string.Join('\n', output)}");
            await Task.Delay(200);
        }
        Assert.Fail("the worker did not become healthy in 60 s: " + string.Join('\n', output));
        return (process, http);
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    /// <summary>Sends <paramref name="signal"/> to the process (SIGSTOP 19 and SIGCONT 18 make a stalled or slow worker).</summary>
    public static void Signal(Process process, int signal) => Assert.Equal(0, kill(process.Id, signal));

    /// <summary>The process's resident memory now, in KiB.</summary>
    public static long Rss(Process process) =>
        long.Parse(File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))[6..].Trim().Split(' ')[0]);

    /// <summary>Stops the worker as an orchestrator does (SIGTERM) and waits for it to exit; returns how long that took and its exit code.</summary>
    public static async Task<(TimeSpan Took, int ExitCode)> TerminateAsync(Process process, TimeSpan wait)
    {
        var started = Stopwatch.GetTimestamp();
        Assert.Equal(0, kill(process.Id, 15));
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the worker did not exit within {wait} of SIGTERM");
        }
        return (Stopwatch.GetElapsedTime(started), process.ExitCode);
    }

    /// <summary>Kills the process (SIGKILL) if it still runs.</summary>
    public static async Task KillAsync(Process? process)
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
