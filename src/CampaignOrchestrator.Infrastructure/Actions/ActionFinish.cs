namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>What a fired action becomes: delivered, failed or suppressed (finished at <paramref name="At"/>), or pending
/// again from <paramref name="NextDueAt"/> (deferred).</summary>
internal sealed record ActionFinish(long Seq, string Status, DateTimeOffset? NextDueAt, DateTimeOffset? At, string? Reason)
{
    internal static readonly string[] Columns = ["seq", "status", "due_at", "finished_at", "reason"];

    internal object?[] Values() => [Seq, Status, NextDueAt, At, Reason];
}
