using System.Diagnostics;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>
/// The worker's spans (OpenTelemetry, source <c>CampaignOrchestrator</c>; on by <c>Telemetry:Traces</c>). An event's trace
/// runs from MassTransit's consume span through <c>journey.store</c> with <c>rules.judge</c> and <c>actions.schedule</c>
/// under it; an action keeps that trace's id (<c>scheduled_actions.trace_parent</c>), so its <c>action.deliver</c> span,
/// days later and on any worker, links back to it, and the outbox's <c>outbox.publish</c> links to the delivery.
/// Nothing is recorded (and nothing stored) while no tracer listens.
/// </summary>
internal static class Traces
{
    public const string SourceName = "CampaignOrchestrator";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The W3C <c>traceparent</c> of <paramref name="activity"/> when it is recorded; null otherwise.</summary>
    public static string? ParentOf(Activity? activity) => activity is { Recorded: true, IdFormat: ActivityIdFormat.W3C } ? activity.Id : null;

    /// <summary>A link to a stored <c>traceparent</c>; none for null or a malformed one.</summary>
    public static ActivityLink[] LinkTo(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? [new ActivityLink(context)] : [];

    /// <summary>Links to each distinct stored <c>traceparent</c>.</summary>
    public static ActivityLink[] LinksTo(IEnumerable<string?> traceParents) =>
        traceParents.Distinct(StringComparer.Ordinal).SelectMany(LinkTo).ToArray();
}
