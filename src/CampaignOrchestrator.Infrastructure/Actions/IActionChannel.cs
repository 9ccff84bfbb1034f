namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// Delivers actions of some kinds (email, banner, offer, retargeting, webhook), once per due action, and says what it did
/// (<see cref="ChannelResult"/>): it writes nothing of its own; the dispatcher records the outcome with the rows and
/// events the result carries. A passing failure is <see cref="ChannelResult.Later"/>; an exception a delivery throws
/// is judged by the dispatcher: a transient one (database busy, connection reset) leaves the action pending, any other
/// fails it for good (<see cref="Failure"/>).
/// </summary>
public interface IActionChannel
{
    /// <summary>True when this channel delivers actions of <paramref name="kind"/>.</summary>
    bool Handles(string kind);

    Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken);

    /// <summary>What a delivery that threw for good is recorded as (email: also announced as <c>email.failed</c>).</summary>
    ChannelResult Failure(DueAction action, string reason) => ChannelResult.Failed(reason);
}
