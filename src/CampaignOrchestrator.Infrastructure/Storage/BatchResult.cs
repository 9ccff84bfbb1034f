namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// What one write did. <see cref="Stored"/>[i] tells whether the i-th event of the batch was new
/// (stored on a timeline) or a duplicate of an eventId seen before, which changed nothing.
/// </summary>
public sealed record BatchResult(IReadOnlyList<bool> Stored)
{
    /// <summary>Events stored.</summary>
    public int StoredCount => Stored.Count(s => s);

    /// <summary>Events skipped as duplicates.</summary>
    public int DuplicateCount => Stored.Count(s => !s);
}
