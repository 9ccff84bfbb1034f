using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Core.Channels;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Actions;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Banners: a delivered banner step becomes the customer's placement for its slot (creative, campaign, expiry after
/// the step's <c>ttl</c>), which the webshop reads when it renders a page (<c>GET /api/placements/{id}</c>). A later
/// assignment to the same slot replaces an earlier one, so the award, benefits and offer banners of the default rules
/// follow each other as the customer moves through the phases. Each assignment is also published as <c>banner.assigned</c>.
/// </summary>
internal sealed class BannerChannel(TimeProvider time) : IImmediateChannel
{
    internal static readonly string[] Columns = ["profile_id", "slot", "creative", "campaign_id", "action_id", "assigned_at", "expires_at"];

    /// <summary>A newer assignment replaces the slot's placement; an older one (a late redelivery) does not.</summary>
    internal const string Upsert =
        "ON CONFLICT (profile_id, slot) DO UPDATE SET creative = excluded.creative, campaign_id = excluded.campaign_id, action_id = excluded.action_id, " +
        "assigned_at = excluded.assigned_at, expires_at = excluded.expires_at WHERE excluded.assigned_at >= placements.assigned_at";

    public bool Handles(string kind) => kind == ChannelKinds.Banner.Name;

    public ChannelResult Deliver(DueAction action)
    {
        // The rules refuse a banner without slot or creative; a step planned by an older version is checked again.
        var slot = (string?)action.Settings["slot"];
        var creative = (string?)action.Settings["creative"];
        if (string.IsNullOrEmpty(slot) || string.IsNullOrEmpty(creative))
            return ChannelResult.Failed("banner without slot or creative");
        TimeSpan? ttl = null;
        if (action.Settings["ttl"] is { } text)
        {
            if (!RulesParser.TryParseDuration((string?)text, out var parsed))
                return ChannelResult.Failed($"banner ttl '{text}' is not a duration");
            if (parsed > RuleLimits.MaxValidity)   // a step an older release planned: the rules bound it now
                return ChannelResult.Failed($"banner ttl '{text}' is longer than {RuleLimits.Describe(RuleLimits.MaxValidity)}");
            ttl = parsed;
        }
        var at = time.GetUtcNow();
        var expires = at + ttl;
        // One placement per customer and slot: of several assigned in one poll, the last judged is kept; each is announced.
        return ChannelResult.Ok($"{slot}: {creative}")
            .Keeping(new StoredRow("placements", Columns, [action.ProfileId, slot, creative, action.CampaignId, action.ActionId, at, expires], Upsert,
                Key: action.ProfileId + "\n" + slot))
            .Announcing(new BannerAssigned(action.ActionId, action.CampaignId, action.Step, action.CustomerId, action.AnonymousId, action.Phase, at,
                action.TriggerId, action.Variant, slot, creative, expires));
    }
}
