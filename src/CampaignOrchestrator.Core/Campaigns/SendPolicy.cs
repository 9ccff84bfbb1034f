using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Channels;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>
/// Judges an action when it falls due (docs/rules.md): the holdout group gets nothing; transactional
/// campaigns always go; a marketing message needs the consent its channel names (<see cref="ChannelKind.ConsentTraits"/>:
/// <c>traits.emailConsent</c> for email) and waits for the send window in the customer's zone; frequency caps per
/// channel over a rolling window defer the send to when the cap allows it (or skip it).
/// </summary>
public static class SendPolicy
{
    /// <summary>
    /// The channel an action reaches the customer through: its kind's, or the one its kind sends it as
    /// (<see cref="ChannelKind.SentAs"/>: an offer with a template is an email). Consent, send windows and caps are per channel.
    /// </summary>
    public static string ChannelOf(RuleAction action) =>
        ChannelKinds.Find(action.Kind) is { } kind ? (kind.SentAs(action.Settings) ?? kind).Name : action.Kind;   // (the planner's own steps: "derive")

    /// <summary>Channels whose marketing sends need the customer's consent and wait for the send window
    /// (they interrupt; a banner or an audience does not): <see cref="ChannelKind.IsMessage"/>.</summary>
    public static bool IsMessage(string channel) => ChannelKinds.Find(channel)?.IsMessage == true;

    /// <param name="channel">See <see cref="ChannelOf"/>.</param>
    /// <param name="sentOnChannel">When this customer's earlier marketing sends on the channel went out (any order).</param>
    public static DueDecision Decide(string channel, bool holdout, bool transactional, IReadOnlyDictionary<string, JsonNode?> traits,
        RuleDefaults defaults, IReadOnlyCollection<DateTimeOffset> sentOnChannel, DateTimeOffset now)
    {
        if (holdout)
            return new DueDecision(DueVerdict.Suppress, "holdout");
        if (transactional)
            return DueDecision.Deliver;
        var kind = ChannelKinds.Find(channel);
        var message = kind?.IsMessage == true;
        if (message && !kind!.HasConsent(traits))
            return new DueDecision(DueVerdict.Suppress, "consent");
        if (message && defaults.SendWindow is { } window)
        {
            var opening = LocalTimes.InWindow(now, window, CampaignPlanner.ZoneOf(traits, defaults));
            if (opening > now)
                return new DueDecision(DueVerdict.Defer, "window", opening);
        }
        foreach (var cap in defaults.FrequencyCaps)
        {
            if (cap.Channel != channel)
                continue;
            var inWindow = sentOnChannel.Where(at => at > now - cap.Per && at <= now).Order().ToList();
            if (inWindow.Count < cap.Max)
                continue;
            if (cap.OnCap == CapBehaviour.Skip)
                return new DueDecision(DueVerdict.Suppress, $"cap: {inWindow.Count} {channel} in {cap.Per}");
            // The cap allows a send again when enough of the sends in the window have aged out of it.
            var until = inWindow[inWindow.Count - cap.Max] + cap.Per;
            return new DueDecision(DueVerdict.Defer, $"cap: {inWindow.Count} {channel} in {cap.Per}", until <= now ? now.AddSeconds(1) : until);
        }
        return DueDecision.Deliver;
    }
}
