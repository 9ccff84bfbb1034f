using System.Text.Json.Nodes;

namespace CampaignOrchestrator.Contracts.Outbound;

/// <summary>
/// The body a webhook step POSTs to its url (signed: <c>X-Campaign-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of
/// "t.body"&gt;</c>, with <c>Idempotency-Key: &lt;actionId&gt;</c>): the common fields of every outbound event, then
/// <paramref name="Kind"/> (<c>webhook</c>) and the step's <paramref name="Settings"/> without the secret's name.
/// Read it with <see cref="OutboundJson.Options"/>.
/// </summary>
public sealed record WebhookPayload(
    string ActionId, string CampaignId, int Step, string? CustomerId, string? AnonymousId, string? Phase, DateTimeOffset OccurredAt,
    string CauseEventId, int Variant, string Kind, JsonObject Settings);
