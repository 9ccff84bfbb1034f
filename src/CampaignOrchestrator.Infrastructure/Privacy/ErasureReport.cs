namespace CampaignOrchestrator.Infrastructure.Privacy;

/// <summary>What an erasure did: the name it is recorded under in the audit log (<c>sha256:</c> of the customer's id), profiles erased (the customer and their devices), pending actions cancelled, audience
/// memberships ended, addresses kept as a hash on the suppression list, and the rows deleted per table.</summary>
public sealed record ErasureReport(string Subject, int Profiles, int PendingCancelled, int AudiencesLeft, int AddressesSuppressed, IReadOnlyDictionary<string, int> RowsDeleted)
{
    /// <summary>What became of the deleted bytes in the store's files (SqlDialect.ClearDeletedAsync).</summary>
    public string? Files { get; init; }
}
