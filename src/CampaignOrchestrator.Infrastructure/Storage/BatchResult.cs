namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// What one write did. <see cref="Stored"/>[i] tells whether the i-th event of the batch was new
/// (stored on a timeline) or a duplicate of an eventId seen before, which changed nothing.
/// </summary>
public sealed record BatchResult(IReadOnlyList<bool> Stored)
{
    /// <summary>Events stored.</summary>
    public int StoredCount => Stored.Count(s => s);

    /// <summary>Steps the batch wrote firing (due at once), for the dispatcher once committed.</summary>
    internal IReadOnlyList<Campaigns.ClaimedAction> Firing { get; init; } = [];

    /// <summary>Events skipped as duplicates.</summary>
    public int DuplicateCount => Stored.Count(s => !s);
}
