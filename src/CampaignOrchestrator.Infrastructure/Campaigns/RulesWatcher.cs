using System.Text.Json;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>
/// Keeps the rules in force current: records each version the worker takes, applies what a new
/// version means for pending steps (a removed campaign's are cancelled; a changed campaign's finish
/// under their version, or are cancelled when it says <c>onChange: exit</c>), and watches the files,
/// reloading without a restart. A refused change keeps the version in force and says why
/// (log and <c>GET /api/rules</c>).
/// </summary>
internal sealed class RulesWatcher(ActiveRules rules, Database database, ActionStore actions, IOptions<RulesOptions> options, TimeProvider time,
    ILogger<RulesWatcher> logger, Channels.Email.EmailTemplates? templates = null) : BackgroundService
{

    readonly System.Threading.Channels.Channel<bool> _changed = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await ApplyVersionAsync(null, rules.Current, "start", cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var path = rules.Status.Path;
        if (!options.Value.Watch || path is null)
            return;
        using var watcher = File.Exists(path)
            ? new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
            : new FileSystemWatcher(path) { IncludeSubdirectories = true };
        watcher.NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.DirectoryName;
        FileSystemEventHandler onChange = (_, _) => _changed.Writer.TryWrite(true);
        watcher.Changed += onChange;
        watcher.Created += onChange;
        watcher.Deleted += onChange;
        watcher.Renamed += (_, _) => _changed.Writer.TryWrite(true);
        watcher.EnableRaisingEvents = true;
        try
        {
            while (await _changed.Reader.WaitToReadAsync(stoppingToken))
            {
                // Editors write in several steps: wait for them to settle, then read once.
                await Task.Delay(TimeSpan.FromMilliseconds(300), stoppingToken);
                while (_changed.Reader.TryRead(out _)) { }
                await ReloadAsync(stoppingToken, "file");
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    readonly SemaphoreSlim _uploads = new(1, 1);

    /// <summary>
    /// Puts uploaded rules in force: checked first (a refused upload changes nothing and throws
    /// <see cref="RulesRejectedException"/>), then written over the rules at <c>Rules:Path</c> (a single file: the one file
    /// given; a folder: the files given become its whole rule set, other rules files go; the history keeps their text),
    /// each file written aside and moved into place, then loaded. Returns what is in force afterwards.
    /// </summary>
    /// <param name="by">How it is recorded in the activations: <c>upload:&lt;key&gt;</c>, <c>rollback:&lt;key&gt;</c>.</param>
    public async Task<LoadedRules> UploadAsync(IReadOnlyList<RulesSource> files, string by, CancellationToken ct)
    {
        var path = rules.Status.Path ?? throw new InvalidOperationException("The rules are not read from a file or folder");
        var single = File.Exists(path);
        if (single && files.Count != 1)
            throw new RulesRejectedException([new RuleError("(upload)", 1, 1, null, $"Rules:Path is one file ({Path.GetFileName(path)}): upload exactly one file")]);
        // The version the files will have on disk: named as the folder names them.
        var named = single ? [files[0] with { Name = Path.GetFileName(path), Shown = files[0].Name }] : files;
        var loaded = RulesFiles.Compile(named, templates?.Catalog);
        await _uploads.WaitAsync(ct);
        try
        {
            if (single)
                Replace(path, named[0].Yaml);
            else
            {
                foreach (var file in named)
                    Replace(Path.Combine(path, file.Name), file.Yaml);
                foreach (var stale in Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
                             .Where(f => (f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                                 && !named.Any(n => Path.GetFullPath(Path.Combine(path, n.Name)) == Path.GetFullPath(f))))
                    File.Delete(stale);
            }
            await ReloadAsync(ct, by);
        }
        finally
        {
            _uploads.Release();
        }
        return loaded;

        static void Replace(string file, string text)
        {
            var aside = Path.Combine(Path.GetDirectoryName(file)!, $".{Path.GetFileName(file)}.{Guid.NewGuid():N}.upload");
            File.WriteAllText(aside, text);
            File.Move(aside, file, overwrite: true);
        }
    }

    /// <summary>Reads the rules again and puts them in force if they are valid and new.</summary>
    internal async Task ReloadAsync(CancellationToken ct, string by = "file")
    {
        var path = rules.Status.Path!;
        LoadedRules loaded;
        try
        {
            loaded = RulesFiles.Load(path, templates?.Catalog);
        }
        catch (RulesRejectedException ex)
        {
            var errors = ex.Errors.Select(e => e.ToString()).ToList();
            rules.Refuse(errors, time.GetUtcNow());
            Log.RulesRefused(logger, rules.Current.Version, errors.Count, string.Join(Environment.NewLine, errors));
            return;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            rules.Refuse([ex.Message], time.GetUtcNow());
            Log.RulesRefused(logger, rules.Current.Version, 1, ex.Message);
            return;
        }
        if (loaded.Version == rules.Current.Version)
            return;
        var previous = rules.Current;
        var next = new CompiledRules(loaded.Rules, loaded.Version);
        rules.Activate(next, time.GetUtcNow(), loaded.Files, loaded.Sources);
        await ApplyVersionAsync(previous, next, by, ct);
    }

    /// <summary>Records <paramref name="next"/> and ends the pending steps it no longer allows.</summary>
    async Task ApplyVersionAsync(CompiledRules? previous, CompiledRules next, string by, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        using var turn = await database.WriteTurnAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO rules_versions (version, activated_at, files, campaigns, sources) VALUES (@version, @now, @files, @campaigns, @sources) " +
            "ON CONFLICT (version) DO NOTHING",
            new
            {
                version = next.Version, now, files = JsonSerializer.Serialize(rules.Status.Files),
                sources = rules.Sources.Count == 0 ? null : JsonSerializer.Serialize(rules.Sources),
                campaigns = JsonSerializer.Serialize(next.Fingerprints.ToDictionary(kv => kv.Key, kv => kv.Value)),
            }, tx, cancellationToken: ct));

        // Every activation (a rollback included); a worker that starts with the version already in force, or a second worker
        // reloading the same files, adds none.
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO rules_activations (version, activated_at, by) SELECT @version, @now, @by " +
            "WHERE coalesce((SELECT version FROM rules_activations ORDER BY seq DESC LIMIT 1), '') <> @version",
            new { version = next.Version, now, by }, tx, cancellationToken: ct));

        // Pending steps of campaigns this version no longer has; and of changed campaigns that exit on change.
        var cancelled = await actions.CancelForRulesAsync(connection, tx, next, now, ct);
        await tx.CommitAsync(ct);
        if (previous is null)
            Log.RulesActive(logger, next.Version, next.Campaigns.Count, cancelled);
        else
            Log.RulesReloaded(logger, previous.Version, next.Version, next.Campaigns.Count, cancelled);
    }
}
