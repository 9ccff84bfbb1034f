using System.Data.Common;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Storage;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// A channel that keeps what it delivered in the journey store, and its outbound events, written in the transaction
/// that records the outcomes: what it keeps exists exactly when its action is recorded delivered (never for an action
/// whose claim was lost, never twice).
/// </summary>
internal interface IStoredActionChannel : IActionChannel
{
    Task StoreAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, IReadOnlyList<(DueAction Action, DateTimeOffset At)> delivered,
        CancellationToken cancellationToken);

    /// <summary>The same for actions that failed for good (an <c>email.failed</c> event), in the same transaction.</summary>
    Task StoreFailedAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, IReadOnlyList<(DueAction Action, DateTimeOffset At, string? Reason)> failed,
        CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Banners: a delivered banner step becomes the customer's placement for its slot (creative, campaign, expiry after
/// the step's <c>ttl</c>), which the webshop reads when it renders a page (<c>GET /api/placements/{id}</c>). A later
/// assignment to the same slot replaces an earlier one, so the award, benefits and offer banners of the default rules
/// follow each other as the customer moves through the phases. Each assignment is also published as <c>banner.assigned</c>
/// (slot, creative, expiresAt) through the outbox.
/// </summary>
internal sealed class BannerChannel : IStoredActionChannel
{
    internal static readonly string[] Columns = ["profile_id", "slot", "creative", "campaign_id", "action_id", "assigned_at", "expires_at"];

    public bool Handles(string kind) => kind == "banner";

    public Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken)
    {
        // The rules refuse a banner without slot or creative; a step planned by an older version is checked again.
        var slot = (string?)action.Settings["slot"];
        var creative = (string?)action.Settings["creative"];
        if (string.IsNullOrEmpty(slot) || string.IsNullOrEmpty(creative))
            return Task.FromResult(ChannelResult.Failed("banner without slot or creative"));
        if (action.Settings["ttl"] is { } ttl && !RulesParser.TryParseDuration((string?)ttl, out _))
            return Task.FromResult(ChannelResult.Failed($"banner ttl '{ttl}' is not a duration"));
        return Task.FromResult(ChannelResult.Ok($"{slot}: {creative}"));
    }

    public async Task StoreAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect, IReadOnlyList<(DueAction Action, DateTimeOffset At)> delivered,
        CancellationToken cancellationToken)
    {
        // One row per slot and customer: of several in one batch, the last assigned.
        var rows = delivered
            .Select(d => (d.Action, d.At, Slot: (string)d.Action.Settings["slot"]!))
            .GroupBy(d => (d.Action.ProfileId, d.Slot))
            .Select(g => g.OrderBy(d => d.At).ThenBy(d => d.Action.Step).Last())
            .Select(d => new object?[]
            {
                d.Action.ProfileId, d.Slot, (string)d.Action.Settings["creative"]!, d.Action.CampaignId, d.Action.ActionId, d.At,
                RulesParser.TryParseDuration((string?)d.Action.Settings["ttl"], out var ttl) ? d.At + ttl : null,
            })
            .ToList();
        await BulkRows.InsertAsync(connection, tx, dialect, "placements", Columns, rows, cancellationToken, Upsert);
        // banner.assigned for every delivery (also one a later one in the batch replaced at once: each was assigned).
        await Messaging.Outbox.AppendAsync(connection, tx, dialect, delivered.Select(d => Messaging.Outbox.Row("banner.assigned", d.Action, d.At, new JsonObject
        {
            ["slot"] = (string?)d.Action.Settings["slot"],
            ["creative"] = (string?)d.Action.Settings["creative"],
            ["expiresAt"] = RulesParser.TryParseDuration((string?)d.Action.Settings["ttl"], out var ttl) ? d.At + ttl : null,
        })).ToList(), cancellationToken);
    }

    /// <summary>A newer assignment replaces the slot's placement; an older one (a late redelivery) does not.</summary>
    internal const string Upsert =
        "ON CONFLICT (profile_id, slot) DO UPDATE SET creative = excluded.creative, campaign_id = excluded.campaign_id, action_id = excluded.action_id, " +
        "assigned_at = excluded.assigned_at, expires_at = excluded.expires_at WHERE excluded.assigned_at >= placements.assigned_at";
}
