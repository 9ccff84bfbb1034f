namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// Due actions one dispatcher holds, and the token that fences its finish (PostgreSQL). On SQLite the claim lives in
/// memory (<see cref="Storage.Database.InFlight"/>) until this is disposed.
/// </summary>
internal sealed class ActionClaim(IReadOnlyList<ClaimedAction> actions, string token, DateTimeOffset at, Action? release) : IDisposable
{
    public IReadOnlyList<ClaimedAction> Actions { get; } = actions;

    public string Token { get; } = token;

    /// <summary>When it was claimed: the poll's "now".</summary>
    public DateTimeOffset At { get; } = at;

    /// <summary>Stopwatch timestamp of when the claim had its write turn (the debug log's turn wait).</summary>
    public long TurnAt { get; init; }

    public void Dispose() => release?.Invoke();
}
