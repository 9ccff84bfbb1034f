using System.Text.Json.Nodes;
using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Infrastructure.Actions;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Audience changes for the ad-platform connectors (<see cref="ConnectorPusher"/> posts them): one row per connector and
/// change, the outbound event's body with its <c>type</c> first, written with the change (same transaction as the outbox event).
/// </summary>
internal static class ConnectorOutbox
{
    static readonly string[] Columns = ["connector", "body", "created_at"];

    public static IEnumerable<StoredRow> Rows(RetargetingOptions options, IReadOnlyList<ICampaignActionEvent> changes)
    {
        foreach (var name in options.Connectors.Keys)
            foreach (var change in changes)
            {
                var body = JsonNode.Parse(OutboundJson.Serialize(change))!.AsObject();
                body.Insert(0, "type", change.RoutingKey);
                yield return new StoredRow("connector_outbox", Columns, [name, body.ToJsonString(), change.OccurredAt]);
            }
    }
}
