using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>
/// Judges an action when it falls due (docs/rules.md): the holdout group gets nothing; transactional
/// campaigns always go; marketing email needs <c>traits.emailConsent</c> true; marketing sends wait for
/// the send window in the customer's zone; frequency caps per channel over a rolling window defer the
/// send to when the cap allows it (or skip it).
/// </summary>
public static class SendPolicy
{
    /// <summary>
    /// The channel an action reaches the customer through: <c>email</c> for an email and for an offer sent
    /// with a template; otherwise its kind. Consent, send windows and caps are per channel.
    /// </summary>
    public static string ChannelOf(RuleAction action) =>
        action.Kind == "email" || (action.Kind == "offer" && action.Settings.ContainsKey("template")) ? "email" : action.Kind;

    /// <summary>Channels whose marketing sends need the customer's consent and wait for the send window
    /// (they interrupt; a banner or an audience does not).</summary>
    public static bool IsMessage(string channel) => channel is "email";

    /// <param name="channel">See <see cref="ChannelOf"/>.</param>
    /// <param name="sentOnChannel">When this customer's earlier marketing sends on the channel went out (any order).</param>
    public static DueDecision Decide(string channel, bool holdout, bool transactional, IReadOnlyDictionary<string, JsonNode?> traits,
        RuleDefaults defaults, IReadOnlyCollection<DateTimeOffset> sentOnChannel, DateTimeOffset now)
    {
        if (holdout)
            return new DueDecision(DueVerdict.Suppress, "holdout");
        if (transactional)
            return DueDecision.Deliver;
        if (IsMessage(channel) && !(traits.GetValueOrDefault("emailConsent") is JsonValue consent && consent.GetValueKind() == JsonValueKind.True))
            return new DueDecision(DueVerdict.Suppress, "consent");
        if (IsMessage(channel) && defaults.SendWindow is { } window)
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
