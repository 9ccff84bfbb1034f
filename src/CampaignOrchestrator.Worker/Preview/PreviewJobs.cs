using System.Collections.Concurrent;
using CampaignOrchestrator.Core.Campaigns;

namespace CampaignOrchestrator.Worker.Preview;

/// <summary>
/// Rules previews running in the background (<c>POST /api/rules/preview</c>), one at a time, each with its progress, the
/// last ten kept (in memory: a restart forgets them). Stopped with the worker.
/// </summary>
internal sealed class PreviewJobs(RulesPreview preview, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<PreviewJobs> logger)
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
                job.Result = await preview.RunAsync(proposal, days, (done, total) => (job.Events, job.TotalEvents) = (done, total), lifetime.ApplicationStopping);
                job.Status = "done";
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
    public string? Error { get; set; }
    public PreviewResult? Result { get; set; }
}
