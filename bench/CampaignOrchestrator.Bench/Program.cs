using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Contracts.Inbound;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

// Inbound load benchmark (see docs/benchmarks.md). Publishes N realistic journey events (mixed
// types, many customers, persistent, publisher confirms) and reports events/s until the worker
// process has stored them all, per database, with the worker's peak memory; and, in the same run on
// the same broker, the rate of a MassTransit consumer that does nothing (the framework ceiling).
//
//   bench/run.sh [--events N] [--db sqlite|postgres|both]
using CampaignOrchestrator.Bench;

var events = Arg("--events", 50_000);
var db = ArgText("--db", "both");
var workerDll = ArgText("--worker", "");
var postgres = ArgText("--postgres", "Host=127.0.0.1;Port=5433;Username=postgres;Database=postgres;Timezone=UTC");
var rabbitPort = Arg("--rabbit-port", 5672);
var vhost = ArgText("--vhost", "/");
// --quorum: the queues are quorum queues (replicated across a cluster's nodes); --hosts: the cluster's nodes for the workers.
var quorum = args.Contains("--quorum");
var hosts = ArgText("--hosts", "").Split(',', StringSplitOptions.RemoveEmptyEntries);
// --drain: publish the whole load first, then start the consumer and time it from its first message
// to its last (consumer cost alone, without the publisher competing for the cores).
var drain = args.Contains("--drain");
// The consumers' prefetch and concurrency, the same for the ceiling and the worker (the worker's defaults).
var prefetch = Arg("--prefetch", 512);
var concurrency = Arg("--concurrency", 256);

Console.WriteLine($"# {(drain ? "draining a backlog of" : "end to end,")} {events:N0} events, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
// --sessions: customers come in visits of a few events seconds apart (EventGenerator); the default spreads them.
var bodies = EventGenerator.Create(events, customers: Math.Max(100, events / 5), sessions: args.Contains("--sessions"));
// Warm-up traffic for each consumer before it is timed (JIT, caches, connection pools), on customers
// of its own so the timed load starts from the same empty journeys.
var warmUp = EventGenerator.Create(Arg("--warmup", 20_000), customers: 2_000, idPrefix: "warm-");

if (args.Contains("--firing"))
{
    // Firing under load: --pending N actions loaded, --rate R a second falling due for --seconds S.
    foreach (var provider in new[] { "Sqlite", "Postgres" })
        if (db == "both" || provider.Equals(db, StringComparison.OrdinalIgnoreCase))
            await FiringBench.RunAsync(provider, workerDll, postgres, rabbitPort, vhost, Arg("--pending", 1_000_000), Arg("--rate", 2_000), Arg("--seconds", 30));
    return 0;
}

if (args.Contains("--funnel-read"))
{
    // The funnel at size: --customers N journeys (about 10 events each) loaded, counted from scratch, --reads R timed reads.
    foreach (var provider in new[] { "Sqlite", "Postgres" })
        if (db == "both" || provider.Equals(db, StringComparison.OrdinalIgnoreCase))
            await FunnelBench.RunAsync(provider, postgres, Arg("--customers", 1_000_000), Arg("--reads", 200), workerDll, rabbitPort, vhost);
    return 0;
}

if (args.Contains("--preview"))
{
    // A rules preview: --days D of --per-day N events stored, the default rules against a raised cart threshold.
    foreach (var provider in new[] { "Sqlite", "Postgres" })
        if (db == "both" || provider.Equals(db, StringComparison.OrdinalIgnoreCase))
            await PreviewBench.RunAsync(provider, postgres, Arg("--days", 7), Arg("--per-day", 100_000));
    return 0;
}

if (args.Contains("--placements"))
{
    // Banner reads over HTTP: --customers N with a placement, --clients C readers, --seconds S timed, --rate R a second in all (0: flat out).
    foreach (var provider in new[] { "Sqlite", "Postgres" })
        if (db == "both" || provider.Equals(db, StringComparison.OrdinalIgnoreCase))
            await PlacementBench.RunAsync(provider, workerDll, postgres, rabbitPort, vhost, Arg("--customers", 100_000), Arg("--clients", 16), Arg("--seconds", 20), Arg("--rate", 0));
    return 0;
}

if (args.Contains("--email"))
{
    // Email throughput: --emails N due marketing emails, --pool P SMTP connections (and the plain clients' ceiling with as many).
    foreach (var provider in new[] { "Sqlite", "Postgres" })
        if (db == "both" || provider.Equals(db, StringComparison.OrdinalIgnoreCase))
            await EmailBench.RunAsync(provider, workerDll, postgres, rabbitPort, vhost, Arg("--emails", 5_000), Arg("--pool", 4));
    return 0;
}

if (args.Contains("--store-only"))
{
    // The store alone, in this process: where the time goes without the broker.
    var accepted = bodies.Select(b => CampaignOrchestrator.Core.Events.JourneyEventValidator.Validate(b.Body, DateTimeOffset.UtcNow)).ToList();
    foreach (var provider in new[] { CampaignOrchestrator.Infrastructure.Storage.StorageProvider.Sqlite, CampaignOrchestrator.Infrastructure.Storage.StorageProvider.Postgres })
    {
        if (db != "both" && !provider.ToString().Equals(db, StringComparison.OrdinalIgnoreCase))
            continue;
        var folder = Directory.CreateTempSubdirectory("co-store-").FullName;
        var (cs, pgDatabase) = await BenchDatabase.CreateAsync(provider.ToString(), postgres, folder, "store");
        var database = new CampaignOrchestrator.Infrastructure.Storage.Database(provider, cs);
        await new CampaignOrchestrator.Infrastructure.Storage.SchemaMigrator(database, Microsoft.Extensions.Logging.Abstractions.NullLogger<CampaignOrchestrator.Infrastructure.Storage.SchemaMigrator>.Instance).MigrateAsync(default);
        // The rules in force as in the worker: the default rules unless --rules names others (--rules none: no campaigns).
        var rulesPath = ArgText("--rules", "rules");
        var compiled = rulesPath == "none" ? CampaignOrchestrator.Infrastructure.Rules.ActiveRules.None
            : CampaignOrchestrator.Infrastructure.Rules.RulesFiles.Load(rulesPath) is var loaded ? new CampaignOrchestrator.Core.Campaigns.CompiledRules(loaded.Rules, loaded.Version) : null!;
        var store = JourneyStore.Create(database,
            new CampaignOrchestrator.Infrastructure.Rules.ActiveRules(compiled, DateTimeOffset.UtcNow), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<JourneyStore>.Instance);
        static long Written() => long.Parse(File.ReadLines("/proc/self/io").First(l => l.StartsWith("wchar:"))[6..].Trim());
        var writtenBefore = Written();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var sw = Stopwatch.StartNew();
        foreach (var chunk in accepted.Chunk(Arg("--batch", 100)))
            await store.ApplyAsync(chunk, default);
        Console.WriteLine($"store only, {provider}: {accepted.Count / sw.Elapsed.TotalSeconds:N0} events/s in batches of {Arg("--batch", 100)}; " +
            $"CPU {(Environment.CpuUsage.TotalTime - cpuBefore).TotalMicroseconds / accepted.Count:N0} µs and {(Written() - writtenBefore) / 1024.0 / accepted.Count:N1} KiB written an event");
        database.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await BenchDatabase.DropAsync(postgres, pgDatabase);
        BenchDatabase.DeleteFolder(folder);
    }
    return 0;
}

// --repeat R: R rounds, each measuring the ceiling and then the worker(s) back to back; the ratio
// is taken within a round (same machine load) and the median round is reported (the lower one of
// the two middle rounds for an even count).
var repeat = Arg("--repeat", 1);
var providers = db == "both" ? new[] { "Sqlite", "Postgres" } : [db.Equals("postgres", StringComparison.OrdinalIgnoreCase) ? "Postgres" : "Sqlite"];
var ratios = providers.ToDictionary(p => p, _ => new List<double>());
// Warm-up: the first ceiling of a run was always the lowest (JIT, broker caches), which flattered
// the first round's ratio. One small untimed pass first.
await TrivialConsumerAsync(warmUp);
for (var round = 1; round <= repeat; round++)
{
    if (repeat > 1) Console.WriteLine($"round {round} of {repeat}");
    var trivial = await TrivialConsumerAsync(bodies);
    Console.WriteLine($"trivial MassTransit consumer: {trivial:N0} msg/s (framework ceiling)");
    foreach (var provider in providers)
    {
        var (rate, peakMb) = await WorkerAsync(provider, bodies);
        ratios[provider].Add(rate / trivial);
        Console.WriteLine($"worker on {provider}: {rate:N0} events/s = {rate / trivial:P0} of the ceiling; worker peak RSS {peakMb:N0} MB" +
            (OtlpSink.Received is { Requests: > 0 } otlp ? $"; OTLP sink so far: {otlp.Requests:N0} exports, {otlp.Bytes / 1024.0 / 1024.0:N1} MB" : ""));
    }
}
if (repeat > 1)
    foreach (var (provider, list) in ratios)
        Console.WriteLine($"median over {repeat} rounds, {provider}: {list.Order().ElementAt((list.Count - 1) / 2):P0} of the ceiling ({string.Join(", ", list.Select(r => r.ToString("P0")))})");
return 0;

async Task<double> TrivialConsumerAsync(IReadOnlyList<(string Type, byte[] Body)> messages)
{
    var counter = new TrivialConsumer.Counter(messages.Count);
    var queue = "bench-trivial-" + Guid.NewGuid().ToString("N")[..8];
    const string exchange = "bench-trivial";
    await using var provider = new ServiceCollection()
        .AddSingleton(counter)
        .Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true)
        .AddMassTransit(x =>
        {
            x.ConfigureUsageTelemetryOptions(o => o.Enabled = false);
            x.AddConsumer<TrivialConsumer>();
            x.UsingRabbitMq((ctx, cfg) =>
            {
                cfg.Host("127.0.0.1", (ushort)rabbitPort, vhost, h => { h.Username("guest"); h.Password("guest"); });
                cfg.ReceiveEndpoint(queue, e =>
                {
                    e.ConfigureConsumeTopology = false;
                    e.PrefetchCount = prefetch;
                    e.ConcurrentMessageLimit = concurrency;
                    if (quorum)
                        e.SetQuorumQueue();
                    e.Bind(exchange, b => { b.ExchangeType = "topic"; b.RoutingKey = "#"; b.AutoDelete = true; b.Durable = false; });
                    e.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
                    e.ConfigureConsumer<TrivialConsumer>(ctx);
                });
            });
        })
        .BuildServiceProvider();
    var bus = provider.GetRequiredService<IBusControl>();
    if (drain)
    {
        await DeclareBoundQueueAsync(queue, exchange);
        await PublishAsync(exchange, messages);
    }
    await bus.StartAsync();
    var (brokerBefore, selfBefore) = (BrokerCpu(), Environment.CpuUsage.TotalTime);
    var watch = Stopwatch.StartNew();
    if (!drain)
        await PublishAsync(exchange, messages);
    await counter.Done.Task.WaitAsync(TimeSpan.FromMinutes(10));
    var rate = messages.Count / (drain ? counter.DoneAt - counter.FirstAt : watch.Elapsed).TotalSeconds;
    Console.WriteLine($"  ceiling: broker CPU {(BrokerCpu() - brokerBefore).TotalMicroseconds / messages.Count:N0} µs a message, " +
        $"publisher + trivial consumer {(Environment.CpuUsage.TotalTime - selfBefore).TotalMicroseconds / messages.Count:N0} µs");
    await bus.StopAsync();
    await DeleteQueueAsync(queue);
    return rate;
}

async Task<(double Rate, double PeakMb)> WorkerAsync(string provider, IReadOnlyList<(string Type, byte[] Body)> messages)
{
    var queue = "bench-worker-" + Guid.NewGuid().ToString("N")[..8];
    var folder = Directory.CreateTempSubdirectory("co-bench-").FullName;
    var (connectionString, pgDatabase) = await BenchDatabase.CreateAsync(provider, postgres, folder, "bench");

    var port = 5190;
    var environment = new Dictionary<string, string>
    {
        ["Bus__RabbitMq__PrefetchCount"] = prefetch.ToString(),
        ["Bus__ConcurrentMessageLimit"] = concurrency.ToString(),
    };
    if (quorum)
        environment["Bus__RabbitMq__QueueType"] = "quorum";
    for (var i = 0; i < hosts.Length; i++)
        environment[$"Bus__RabbitMq__Hosts__{i}"] = hosts[i];
    // --rules none: the worker without campaigns (what the foundation measured); --rules PATH: other rules.
    if (ArgText("--rules", "rules") is var rulesArg && rulesArg != "rules")
    {
        if (rulesArg == "none")
        {
            rulesArg = Path.Combine(folder, "none.yaml");
            File.WriteAllText(rulesArg, "campaigns: []\n");
        }
        environment["Rules__Path"] = Path.GetFullPath(rulesArg);
    }
    // --telemetry on: metrics and traces recorded and exported over OTLP (http/protobuf) to a sink in this process, as a
    // collector would take them; off: neither (Telemetry:Metrics and :Traces off). Default: the worker's defaults.
    switch (ArgText("--telemetry", "default"))
    {
        case "on":
            OtlpSink.Start(4318);
            environment["Telemetry__Metrics"] = "on";
            environment["Telemetry__Traces"] = "on";
            environment["Telemetry__Otlp__Endpoint"] = "http://127.0.0.1:4318";
            environment["Telemetry__Otlp__Protocol"] = "http/protobuf";
            break;
        case "off":
            environment["Telemetry__Metrics"] = "off";
            environment["Telemetry__Traces"] = "off";
            break;
    }
    // --funnel on|off: the funnel's counting job on or off in the worker (Funnel:Enabled; default on).
    if (ArgText("--funnel", "default") is "on" or "off")
        environment["Funnel__Enabled"] = ArgText("--funnel", "default") == "on" ? "true" : "false";
    var verbose = Environment.GetEnvironmentVariable("BENCH_VERBOSE") == "1";
    if (verbose)
    {
        environment["Logging__LogLevel__CampaignOrchestrator.Infrastructure.Storage.JourneyWriteBuffer"] = "Debug";
        environment["Logging__LogLevel__CampaignOrchestrator.Infrastructure.Campaigns.ActionDispatcher"] = "Debug";
    }
    if (drain)
    {
        await DeclareBoundQueueAsync(queue, JourneyEventsTopology.ExchangeName);
        await PublishAsync(JourneyEventsTopology.ExchangeName, messages);
    }
    // --workers N: N worker processes on the one queue and store (competing consumers; PostgreSQL for more than one).
    var count = Math.Max(1, Arg("--workers", 1));
    var workers = Enumerable.Range(0, count).Select(k => WorkerRuntime.Start(workerDll, queue, rabbitPort, vhost, provider, connectionString, port + k, environment,
        output: line => verbose && (line.Contains("batch") || line.Contains("Fired")))).ToList();
    var https = Enumerable.Range(0, count).Select(k => WorkerRuntime.Http(port + k)).ToList();
    var worker = workers[0];
    var http = https[0];
    foreach (var h in https)
        for (var i = 0; ; i++)
        {
            try { if ((await h.GetAsync("/health")).IsSuccessStatusCode) break; } catch (HttpRequestException) { }
            if (i > 300) throw new TimeoutException("worker did not become healthy");
            await Task.Delay(100);
        }

    // BENCH_TRACE=file.nettrace: a CPU sample of the worker for the first 10 s of the load (dotnet-trace).
    // The same untimed warm-up as the trivial consumer had (a fresh worker process otherwise spends
    // the first seconds of the timed load in the JIT), then the timed load.
    long baseline = 0;
    if (!drain)
    {
        await PublishAsync(JourneyEventsTopology.ExchangeName, warmUp);
        baseline = await WaitStoredAsync(warmUp.Count, TimeSpan.FromMinutes(5));
    }
    var befores = await Task.WhenAll(https.Select(async h => (await h.GetFromJsonAsync<JsonObject>("/api/metrics"))!["process"]!));
    var before = befores[0];
    var tracePath = Environment.GetEnvironmentVariable("BENCH_TRACE");
    using var tracer = tracePath is null ? null : Process.Start("dotnet-trace", ["collect", "-p", worker.Id.ToString(), "--profile", "dotnet-sampled-thread-time", "-o", $"{tracePath}.{provider}.nettrace", "--duration", "00:00:00:10"]);
    if (tracer is not null && !drain) await Task.Delay(1500);
    // BENCH_PERF=file: a perf CPU profile (call graphs) of the worker for the first 6 s of the timed load;
    // set DOTNET_PerfMapEnabled=1 in BENCH_WORKER_ENV so perf can name the JIT-compiled methods.
    var perfPath = Environment.GetEnvironmentVariable("BENCH_PERF");
    using var perf = perfPath is null ? null : Process.Start("perf", ["record", "-F", "999", "-g", "-p", worker.Id.ToString(), "-o", $"{perfPath}.{provider}.data", "--", "sleep", "6"]);
    var (brokerBefore, selfBefore, pgBefore) = (BrokerCpu(), Environment.CpuUsage.TotalTime, PostgresCpu());
    var watch = Stopwatch.StartNew();
    if (!drain)
        await PublishAsync(JourneyEventsTopology.ExchangeName, messages);
    long stored = 0;
    TimeSpan? firstAt = drain ? null : TimeSpan.Zero;
    while (true)
    {
        var all = await Task.WhenAll(https.Select(async h => (await h.GetFromJsonAsync<JsonObject>("/api/metrics"))!));
        var m = all[0];
        stored = all.Sum(x => (long)x["journeyEvents"]!["stored"]! + (long)x["journeyEvents"]!["duplicates"]!) - baseline;
        if (stored > 0 && firstAt is null) firstAt = watch.Elapsed;
        if (stored >= messages.Count)
        {
            if (count > 1)
                Console.WriteLine($"  {count} workers, CPU an event each: " + string.Join(", ", all.Select((x, k) =>
                    $"{((long)x["process"]!["cpuMs"]! - (long)befores[k]["cpuMs"]!) * 1000.0 / messages.Count:N0} µs")) +
                    $"; together {all.Select((x, k) => (long)x["process"]!["cpuMs"]! - (long)befores[k]["cpuMs"]!).Sum() * 1000.0 / messages.Count:N0} µs");
            var p = m["process"]!;
            long Delta(string key) => (long)p[key]! - (long)before[key]!;
            Console.WriteLine($"  worker during the timed load: CPU {Delta("cpuMs") * 1000.0 / messages.Count:N0} µs an event, " +
                $"allocated {Delta("allocatedBytes") / 1024.0 / messages.Count:N1} KiB an event, JIT {Delta("jitCompilationMs"):N0} ms, GC pauses {Delta("gcPauseMs"):N0} ms, collections {p["gcCollections"]!.ToJsonString()}");
            Console.WriteLine($"  broker CPU {(BrokerCpu() - brokerBefore).TotalMicroseconds / messages.Count:N0} µs a message, publisher {(Environment.CpuUsage.TotalTime - selfBefore).TotalMicroseconds / messages.Count:N0} µs" +
                (provider == "Postgres" ? $", PostgreSQL {(PostgresCpu() - pgBefore).TotalMicroseconds / messages.Count:N0} µs" : ""));
            break;
        }
        if (watch.Elapsed > TimeSpan.FromMinutes(15)) throw new TimeoutException($"only {stored} of {messages.Count} stored");
        await Task.Delay(20);
    }
    var rate = messages.Count / (watch.Elapsed - firstAt!.Value).TotalSeconds;
    if (tracer is not null) await tracer.WaitForExitAsync();
    if (perf is not null) await perf.WaitForExitAsync();
    var status = File.ReadLines($"/proc/{worker.Id}/status").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
        .ToDictionary(p => p[0], p => p[1].Trim());
    var peakKb = long.Parse(status["VmHWM"].Split(' ')[0]);
    var gc = (await http.GetFromJsonAsync<JsonObject>("/api/metrics"))!["process"]!;
    Console.WriteLine($"  worker memory at the end: RSS {status["VmRSS"]} = anonymous {status["RssAnon"]} + files (database pages mapped) {status["RssFile"]} + shared {status["RssShmem"]}; " +
        $"GC heap {(long)gc["gcHeapBytes"]! / 1048576} MB, committed {(long)gc["gcCommittedBytes"]! / 1048576} MB");
    foreach (var w in workers)
    {
        w.Kill(entireProcessTree: true);
        await w.WaitForExitAsync();
        w.Dispose();
    }
    foreach (var h in https)
        h.Dispose();
    await DeleteQueueAsync(queue);
    await BenchDatabase.DropAsync(postgres, pgDatabase);
    BenchDatabase.DeleteFolder(folder);
    return (rate, peakKb / 1024.0);

    async Task<long> WaitStoredAsync(int count, TimeSpan timeout)
    {
        var until = Stopwatch.StartNew();
        while (true)
        {
            var n = 0L;
            foreach (var h in https)
            {
                var m = await h.GetFromJsonAsync<JsonObject>("/api/metrics");
                n += (long)m!["journeyEvents"]!["stored"]! + (long)m["journeyEvents"]!["duplicates"]!;
            }
            if (n >= count) return n;
            if (until.Elapsed > timeout) throw new TimeoutException($"warm-up: only {n} of {count} stored");
            await Task.Delay(50);
        }
    }
}

async Task PublishAsync(string exchange, IReadOnlyList<(string Type, byte[] Body)> messages)
{
    var factory = new ConnectionFactory { HostName = "127.0.0.1", Port = rabbitPort, VirtualHost = vhost };
    await using var connection = await factory.CreateConnectionAsync();
    await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
    await channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: exchange == JourneyEventsTopology.ExchangeName, autoDelete: exchange != JourneyEventsTopology.ExchangeName);
    var props = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
    const int window = 1000; // outstanding unconfirmed publishes
    var inFlight = new List<Task>(window);
    foreach (var (type, body) in messages)
    {
        inFlight.Add(channel.BasicPublishAsync(exchange, type, false, props, body).AsTask());
        if (inFlight.Count == window)
        {
            await Task.WhenAll(inFlight);
            inFlight.Clear();
        }
    }
    await Task.WhenAll(inFlight);
}

async Task DeclareBoundQueueAsync(string queue, string exchange)
{
    var factory = new ConnectionFactory { HostName = "127.0.0.1", Port = rabbitPort, VirtualHost = vhost };
    await using var connection = await factory.CreateConnectionAsync();
    await using var channel = await connection.CreateChannelAsync();
    var durableExchange = exchange == JourneyEventsTopology.ExchangeName;
    await channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: durableExchange, autoDelete: !durableExchange);
    await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
    await channel.QueueBindAsync(queue, exchange, "#");
}

Task DeleteQueueAsync(string queue) => BenchRabbit.DeleteQueueAsync(rabbitPort, vhost, queue);

int Arg(string name, int fallback) => int.TryParse(ArgText(name, ""), out var v) ? v : fallback;

string ArgText(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

// CPU time of the processes that share the 2 cores with the worker, from /proc (clock ticks of 10 ms).
static TimeSpan ProcessesCpu(Func<string, bool> comm)
{
    long ticks = 0;
    foreach (var dir in Directory.EnumerateDirectories("/proc"))
    {
        try
        {
            if (!int.TryParse(Path.GetFileName(dir), out _) || !comm(File.ReadAllText(Path.Combine(dir, "comm")).Trim()))
                continue;
            var stat = File.ReadAllText(Path.Combine(dir, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            ticks += long.Parse(fields[11]) + long.Parse(fields[12]); // utime, stime
        }
        catch (IOException) { }
    }
    return TimeSpan.FromMilliseconds(ticks * 10);
}

static TimeSpan BrokerCpu() => ProcessesCpu(c => c == "beam.smp");

static TimeSpan PostgresCpu() => ProcessesCpu(c => c.StartsWith("postgres", StringComparison.Ordinal));
