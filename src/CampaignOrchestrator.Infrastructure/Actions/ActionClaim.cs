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

    /// <summary>A claim that runs out (PostgreSQL: a row state with a lease); SQLite's, in memory, ends only with the round.</summary>
    public bool Expires { get; } = release is null;

    long _renewedAt = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>The lease was extended (by the database's clock) now.</summary>
    public void Renewed() => Interlocked.Exchange(ref _renewedAt, System.Diagnostics.Stopwatch.GetTimestamp());

    /// <summary>
    /// Whether a send may still start under this claim: it never expires, or it was taken or renewed less than half the
    /// lease ago (so it cannot have run out, and been taken by another worker, before the send is recorded or renewed again).
    /// </summary>
    public bool Holds(TimeSpan lease) => !Expires || SinceRenewed < lease / 2;

    /// <summary>How long ago it was taken or last renewed.</summary>
    public TimeSpan SinceRenewed => System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _renewedAt));

    public void Dispose() => release?.Invoke();
}
