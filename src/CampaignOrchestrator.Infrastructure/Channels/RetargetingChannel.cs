using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Core.Channels;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Retargeting: a delivered retargeting step puts the customer in the step's audience, identified as the ad platforms
/// take it: the normalised email (trimmed, lower case) hashed with SHA-256, never the address; a leave step (written when
/// the campaign's instance exits: a purchase ends the cart recovery) takes them out again. Only with consent to marketing
/// (<c>traits.adConsent</c>, or <c>traits.emailConsent</c> when that is absent), never for a customer who ordered within
/// <see cref="RetargetingOptions.ExcludeBuyersWithin"/>. Memberships end after <see cref="RetargetingOptions.Membership"/>
/// (<see cref="AudienceSweeper"/>). Every join and leave is published (<c>retargeting.joined</c> / <c>retargeting.left</c>)
/// for the ad-platform connectors, which apply them with the hash as the key.
/// </summary>
internal sealed class RetargetingChannel(Database database, IOptions<RetargetingOptions> options, TimeProvider time) : IActionChannel
{
    internal static readonly string[] Columns = ["audience", "profile_id", "email_sha256", "campaign_id", "action_id", "joined_at", "expires_at"];

    const string Upsert = "ON CONFLICT (audience, profile_id) DO UPDATE SET email_sha256 = excluded.email_sha256, campaign_id = excluded.campaign_id, " +
        "action_id = excluded.action_id, joined_at = excluded.joined_at, expires_at = excluded.expires_at";

    public bool Handles(string kind) => kind == ChannelKinds.Retargeting.Name;

    static bool IsLeave(DueAction action) => (string?)action.Settings["op"] == "leave";

    public async Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken)
    {
        var audience = (string?)action.Settings["audience"];
        if (string.IsNullOrEmpty(audience))
            return ChannelResult.Failed("retargeting without audience");
        await using var connection = await database.OpenAsync(cancellationToken);
        var at = time.GetUtcNow();
        if (IsLeave(action))
        {
            var member = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT email_sha256 FROM audience_members WHERE audience = @audience AND profile_id = @ProfileId",
                new { audience, action.ProfileId }, cancellationToken: cancellationToken));
            if (member is null)
                return ChannelResult.Ok($"left {audience} (not a member)");
            return Announce(ChannelResult.Ok($"left {audience}").Keeping(StoredRow.Delete("audience_members", ["audience", "profile_id"], audience, action.ProfileId)),
                new RetargetingLeft(action.ActionId, action.CampaignId, action.Step, action.CustomerId, action.AnonymousId, action.Phase, at, action.TriggerId,
                    action.Variant, audience, member, "exit"));
        }
        var traits = action.Traits ?? ParseTraits(await JourneyReads.TraitsAsync(connection, null, action.ProfileId, cancellationToken));
        if (!ChannelKinds.Retargeting.HasConsent(traits))
            return ChannelResult.Suppress($"suppressed: no consent to marketing ({ChannelKinds.Retargeting.ConsentNames})");
        if (HashOf(traits) is not { } hash)
            return ChannelResult.Suppress("suppressed: no email address to match the customer by");
        var since = at - options.Value.ExcludeBuyersWithin;
        if (await JourneyReads.HasEventSinceAsync(connection, null, action.ProfileId, "order_placed", since, cancellationToken))
            return ChannelResult.Suppress($"suppressed: ordered within {options.Value.ExcludeBuyersWithin.TotalDays:0} days");
        var expires = at + options.Value.Membership;
        return Announce(ChannelResult.Ok($"joined {audience}")
                .Keeping(new StoredRow("audience_members", Columns, [audience, action.ProfileId, hash, action.CampaignId, action.ActionId, at, expires], Upsert)),
            new RetargetingJoined(action.ActionId, action.CampaignId, action.Step, action.CustomerId, action.AnonymousId, action.Phase, at, action.TriggerId,
                action.Variant, audience, hash, expires));
    }

    /// <summary>The result announcing <paramref name="change"/> on the exchange and to every connector.</summary>
    ChannelResult Announce(ChannelResult result, ICampaignActionEvent change) =>
        result.Announcing(change).Keeping([.. ConnectorOutbox.Rows(options.Value, [change])]);

    /// <summary>SHA-256 (hex) of the normalised address, as the ad platforms' customer lists take it; null without an address.</summary>
    internal static string? HashOf(IReadOnlyDictionary<string, JsonNode?> traits) =>
        traits.GetValueOrDefault("email") is JsonValue v && v.GetValueKind() == JsonValueKind.String && ((string)v!).Trim() is { Length: > 0 } address
            ? EmailHash.Of(address)
            : null;

    static Dictionary<string, JsonNode?> ParseTraits(string? json) =>
        (json is null ? null : JsonNode.Parse(json) as JsonObject)?.ToDictionary(p => p.Key, p => p.Value?.DeepClone(), StringComparer.Ordinal) ?? [];
}
