namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// A channel whose delivery reads nothing and reaches nobody outside: it only asks for rows and events to be written
/// (banners: a placement and <c>banner.assigned</c>). A step of it due the moment it is planned is delivered inside the
/// journey transaction that plans it (<see cref="ImmediateDelivery"/>), never claimed; later steps go through the
/// dispatcher like any other. See docs/decisions/0010-immediate-delivery.md.
/// </summary>
public interface IImmediateChannel : IActionChannel
{
    /// <summary>Delivers at once. The action has no <see cref="DueAction.Seq"/> yet (0): the row is written with the result.</summary>
    ChannelResult Deliver(DueAction action);

    Task<ChannelResult> IActionChannel.DeliverAsync(DueAction action, CancellationToken cancellationToken) => Task.FromResult(Deliver(action));
}
