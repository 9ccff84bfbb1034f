namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>
/// PostgreSQL types of the columns written in bulk (scheduled_actions, action_log, placements, outbox, offers and the rows read
/// from them; migrations 0003, 0005, 0006, 0007 and 0009). A column name means the same type in every table that has it.
/// </summary>
internal static class PostgresColumnTypes
{
    static readonly Dictionary<string, string> Types = new(StringComparer.Ordinal)
    {
        ["seq"] = "bigint", ["action_seq"] = "bigint", ["late_ms"] = "bigint",
        ["step"] = "integer", ["variant"] = "integer", ["priority"] = "integer",
        ["holdout"] = "boolean", ["transactional"] = "boolean",
        ["settings"] = "json",
        ["triggered_at"] = "timestamptz", ["planned_at"] = "timestamptz", ["due_at"] = "timestamptz", ["next_due_at"] = "timestamptz",
        ["finished_at"] = "timestamptz", ["created_at"] = "timestamptz", ["at"] = "timestamptz",
        ["action_id"] = "text", ["trace_parent"] = "text", ["campaign_id"] = "text", ["profile_id"] = "text", ["instance_key"] = "text", ["trigger_id"] = "text",
        ["cause"] = "text", ["kind"] = "text", ["channel"] = "text", ["rules_version"] = "text", ["fingerprint"] = "text",
        ["status"] = "text", ["outcome"] = "text", ["reason"] = "text", ["cause_event_id"] = "text", ["event_id"] = "text",
        ["slot"] = "text", ["creative"] = "text", ["assigned_at"] = "timestamptz", ["expires_at"] = "timestamptz",
        ["routing_key"] = "text", ["message_id"] = "text", ["body"] = "text",
        ["code"] = "text", ["discount_percent"] = "numeric", ["amount"] = "numeric", ["issued_at"] = "timestamptz",
        ["day"] = "text", ["counter"] = "integer", ["cross_device"] = "integer", ["phase_rank"] = "integer", ["other_rank"] = "integer",
        ["bucket"] = "integer", ["n"] = "bigint", ["counted"] = "text", ["firsts"] = "text", ["result"] = "text", ["revenue"] = "numeric", ["goal"] = "text",
        ["audience"] = "text", ["email_sha256"] = "text", ["joined_at"] = "timestamptz", ["connector"] = "text",
    };

    public static string Of(string column) =>
        Types.TryGetValue(column, out var type) ? type : throw new ArgumentException($"no PostgreSQL type known for column {column}");
}
