using Microsoft.Extensions.Options;
using System.Collections.Concurrent;
using CampaignOrchestrator.Core.Campaigns;

namespace CampaignOrchestrator.Worker.Preview;

/// <summary>
/// Rules previews running in the background (<c>POST /api/rules/preview</c>), one at a time, each with its progress, the
/// last ten kept (in memory: a restart forgets them). Each runs within <see cref="PreviewOptions.MaxDuration"/> and
/// <see cref="PreviewOptions.CpuShare"/> and can be cancelled (<see cref="Cancel"/>); then it answers what it judged. Ended
/// with the worker.
/// </summary>
internal sealed class PreviewJobs(RulesPreview preview, TimeProvider time, IHostApplicationLifetime lifetime, IOptions<PreviewOptions> options,
    ILogger<PreviewJobs> logger)
{
    const int Kept = 10;
    readonly ConcurrentDictionary<string, PreviewJob> _jobs = new(StringComparer.Ordinal);
    readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>Starts a preview of <paramref name="proposal"/> over the last <paramref name="days"/> days; null when one is running.</summary>
    public PreviewJob? Start(CompiledRules proposal, int days, string by)
    {
        if (!_one.Wait(0))
            return null;
        var job = new PreviewJob(Guid.NewGuid().ToString("N")[..12], proposal.Version, days, by, time.GetUtcNow());
        _jobs[job.Id] = job;
        foreach (var old in _jobs.Values.OrderByDescending(j => j.StartedAt).Skip(Kept))
            _jobs.TryRemove(old.Id, out _);
        _ = Task.Run(async () =>
        {
            try
            {
                job.Result = await preview.RunAsync(proposal, days, (done, total) => (job.Events, job.TotalEvents) = (done, total), lifetime.ApplicationStopping,
                    options.Value, job.Stopping);
                job.Status = job.Result.Complete ? "done" : job.Stopping.IsCancellationRequested ? "cancelled" : "stopped";
                job.Error = job.Result.Stopped;
            }
            catch (Exception ex)
            {
                job.Status = "failed";
                job.Error = lifetime.ApplicationStopping.IsCancellationRequested ? "the worker stopped" : ex.Message;
                Log.PreviewFailed(logger, job.Id, ex);
            }
            finally
            {
                job.FinishedAt = time.GetUtcNow();
                _one.Release();
            }
        });
        return job;
    }

    public PreviewJob? Get(string id) => _jobs.GetValueOrDefault(id);

    /// <summary>Asks a running preview to stop: it ends with what it judged. False when it is not running.</summary>
    public bool Cancel(PreviewJob job)
    {
        if (job.Status != "running")
            return false;
        job.Cancel();
        return true;
    }

    public IReadOnlyList<PreviewJob> Recent => _jobs.Values.OrderByDescending(j => j.StartedAt).ToList();
}

/// <summary>One preview: running (with how many of the window's events were replayed), done (with its result) or failed.</summary>
internal sealed class PreviewJob(string id, string proposedVersion, int days, string by, DateTimeOffset startedAt)
{
    public string Id { get; } = id;
    public string ProposedVersion { get; } = proposedVersion;
    public int Days { get; } = days;
    public string By { get; } = by;
    public DateTimeOffset StartedAt { get; } = startedAt;
    public string Status { get; set; } = "running";
    public long Events { get; set; }
    public long TotalEvents { get; set; }
    public double Progress => TotalEvents == 0 ? (Status == "running" ? 0 : 1) : Math.Round((double)Events / TotalEvents, 3);
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Why it failed, or why it stopped before it judged every event.</summary>
    public string? Error { get; set; }

    public PreviewResult? Result { get; set; }

    readonly CancellationTokenSource _stop = new();

    internal CancellationToken Stopping => _stop.Token;

    internal void Cancel() => _stop.Cancel();
}
