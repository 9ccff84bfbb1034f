namespace CampaignOrchestrator.Infrastructure.Privacy;

/// <summary>
/// Every table of the store, and what it holds of a customer: what <see cref="CustomerData"/> exports and erases. A test
/// reads the schema and fails on a table this list does not name, so a new table is classified before it ships.
/// </summary>
internal static class PersonalData
{
    /// <summary>Tables with rows of one profile (<c>profile_id</c>): exported, and deleted by an erasure.</summary>
    public static readonly string[] ByProfile =
        ["events", "phase_history", "scheduled_actions", "action_log", "placements", "offers", "audience_members", "email_lookup", "profiles"];

    /// <summary>Tables holding a customer otherwise, and how an erasure treats them.</summary>
    public static readonly IReadOnlyDictionary<string, string> Otherwise = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["anonymous_links"] = "the customer's devices: deleted",
        ["outbox"] = "events about the customer's actions not yet published: deleted (retargeting.left, reason erased, carries only the address hash)",
        ["connector_outbox"] = "audience changes of the customer's actions not yet posted: deleted",
        ["email_suppressions"] = "the address's hash only: kept (reason erased), so no marketing mail goes to it again",
        ["campaign_scans"] = "an inactivity scan's position may name the profile: reset to the start of its instant",
        ["audit_log"] = "operator actions naming the customer: the id replaced by its hash",
        ["results_profiles"] = "what the customer adds to campaign results (days, counts, revenue; no traits): subtracted from results_counts and deleted",
        ["funnel_profiles"] = "what the customer adds to the funnel counters (days and phases, no traits): subtracted from funnel_counts and deleted",
    };

    /// <summary>Tables that hold nothing of a customer.</summary>
    public static readonly string[] Nothing = ["rules_versions", "rules_activations", "worker_secrets", "schema_migrations", "funnel_counts", "funnel_state", "results_counts", "results_goals"];

    /// <summary>Prefixes of tables that hold nothing of a customer (Quartz's own: campaign jobs and triggers).</summary>
    public static readonly string[] NothingPrefixes = ["qrtz_"];

    public static bool Classifies(string table) =>
        ByProfile.Contains(table) || Otherwise.ContainsKey(table) || Nothing.Contains(table) ||
        NothingPrefixes.Any(p => table.StartsWith(p, StringComparison.OrdinalIgnoreCase));
}
