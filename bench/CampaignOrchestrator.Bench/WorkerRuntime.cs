namespace CampaignOrchestrator.Bench;

/// <summary>The environment infra/run.sh gives the worker's process, so the bench measures the worker as it runs.</summary>
public static class WorkerRuntime
{
    /// <summary>The worker process as the benches start it: its own queue, the given store, its HTTP port, warnings only,
    /// the runtime settings of <see cref="Apply"/>; its warnings and errors echoed.</summary>
    /// <param name="output">Which lines of the worker's standard output to echo (default: warnings and errors).</param>
    public static System.Diagnostics.Process Start(string workerDll, string queue, int rabbitPort, string vhost, string provider, string connectionString,
        int httpPort, IDictionary<string, string>? extra = null, Func<string, bool>? output = null)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet", [workerDll])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            Environment =
            {
                ["Bus__QueueName"] = queue,
                ["Bus__RabbitMq__Port"] = rabbitPort.ToString(),
                ["Bus__RabbitMq__VirtualHost"] = vhost,
                ["Storage__Provider"] = provider,
                ["Storage__ConnectionString"] = connectionString,
                ["Http__Urls"] = $"http://127.0.0.1:{httpPort}",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Security__ApiKeys__bench__Sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(AdminKey))),
                ["Security__ApiKeys__bench__Role"] = "admin",
            },
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
            psi.Environment[key] = value;
        Apply(psi.Environment);
        var worker = System.Diagnostics.Process.Start(psi)!;
        output ??= line => line.Contains("fail") || line.Contains("crit") || line.Contains("warn");
        worker.OutputDataReceived += (_, e) => { if (e.Data is not null && output(e.Data)) Console.Error.WriteLine("  worker: " + e.Data); };
        worker.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("  worker: " + e.Data); };
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();
        return worker;
    }

    /// <summary>The admin key the bench's worker is given (its hash only), for the bench's own reads.</summary>
    public const string AdminKey = "co_bench-admin-key-000000000000000000000";

    /// <summary>A client for the worker's API on <paramref name="port"/>, with the bench's key.</summary>
    public static HttpClient Http(int port)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
        return http;
    }

    public static void Apply(IDictionary<string, string?> environment)
    {
        // Every method JIT-optimized, no precompiled framework code (decision 0004).
        environment["DOTNET_ReadyToRun"] = "0";
        // Two malloc arenas instead of up to eight a core: the same speed, 25-35 MB less memory (decision 0005).
        environment["MALLOC_ARENA_MAX"] = "2";
        // BENCH_WORKER_ENV="NAME=value;NAME=value": extra environment for the worker process only (experiments).
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_WORKER_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
            environment[pair[..pair.IndexOf('=')]] = pair[(pair.IndexOf('=') + 1)..];
    }
}
