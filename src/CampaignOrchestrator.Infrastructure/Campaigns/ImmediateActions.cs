using System.Threading.Channels;

namespace CampaignOrchestrator.Infrastructure.Campaigns;

/// <summary>
/// Actions that were due the moment the journey writer planned them (a banner for the phase just entered, a
/// confirmation): the writer stores them <c>firing</c> — claimed by this worker, with a token, outside the index the
/// claimer reads — and hands them to the dispatcher here once its transaction committed, so they are delivered at once
/// without being claimed again. Firing rows a worker did not finish (it stopped or died) go back to pending after
/// <see cref="SchedulingOptions.ClaimLease"/> (PostgreSQL), or when the next worker on the SQLite file starts.
/// </summary>
internal sealed class ImmediateActions
{
    readonly Channel<Batch> _queue = Channel.CreateUnbounded<Batch>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>A committed batch of firing actions and the token they were claimed with.</summary>
    public sealed record Batch(string Token, DateTimeOffset ClaimedAt, IReadOnlyList<ClaimedAction> Actions);

    public void Post(Batch batch) => _queue.Writer.TryWrite(batch);

    public bool TryRead(out Batch batch) => _queue.Reader.TryRead(out batch!);

    public ValueTask<bool> WaitToReadAsync(CancellationToken ct) => _queue.Reader.WaitToReadAsync(ct);
}

/// <summary>An action claimed for delivery: by the dispatcher from the table, or by the journey writer that planned it.</summary>
internal sealed class ClaimedAction
{
    /// <summary>The columns a claim reads, in this order.</summary>
    public const string Columns = "seq, action_id, campaign_id, step, profile_id, instance_key, trigger_id, kind, channel, settings, variant, holdout, transactional, priority, rules_version, due_at";

    public long Seq { get; set; }
    public string ActionId { get; set; } = "";
    public string CampaignId { get; set; } = "";
    public int Step { get; set; }
    public string ProfileId { get; set; } = "";
    public string? InstanceKey { get; set; }
    public string TriggerId { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Channel { get; set; } = "";
    public string Settings { get; set; } = "{}";
    public int Variant { get; set; }
    public bool Holdout { get; set; }
    public bool Transactional { get; set; }
    public int Priority { get; set; }
    public string RulesVersion { get; set; } = "";
    public DateTimeOffset DueAt { get; set; }

    /// <summary>From a planned row (<see cref="CampaignScheduler.ActionColumns"/>) and the seq its insert returned.</summary>
    public static ClaimedAction FromPlanned(object?[] row, long seq) => new()
    {
        Seq = seq,
        ActionId = (string)row[0]!,
        CampaignId = (string)row[1]!,
        Step = (int)row[2]!,
        ProfileId = (string)row[3]!,
        InstanceKey = (string?)row[4],
        TriggerId = (string)row[5]!,
        Kind = (string)row[8]!,
        Channel = (string)row[9]!,
        Settings = ((Storage.RawJson)row[10]!).Json,
        Variant = (int)row[11]!,
        Holdout = (bool)row[12]!,
        Transactional = (bool)row[13]!,
        Priority = (int)row[14]!,
        RulesVersion = (string)row[15]!,
        DueAt = (DateTimeOffset)row[18]!,
    };
}
