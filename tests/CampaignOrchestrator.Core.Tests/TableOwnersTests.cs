using System.Text.RegularExpressions;

namespace CampaignOrchestrator.Core.Tests;

/// <summary>
/// Every table has one owning folder, which holds all SQL that names it, reads included: the others ask the owner's
/// readers (<c>JourneyReader</c>, <c>JourneyReads</c>, <c>ActionStore</c>, <c>Outbox</c>…). The host (the Worker project),
/// Core and the contracts hold no SQL at all. The exceptions are named below with why; the privacy module's export and
/// erasure read and delete everything of a customer, and is excepted as a whole.
/// </summary>
public partial class TableOwnersTests
{
    /// <summary>The owner of each table: a folder of src/CampaignOrchestrator.Infrastructure.</summary>
    static readonly Dictionary<string, string> Owners = new(StringComparer.Ordinal)
    {
        // The journey: written in the journey transaction (Storage/JourneyRecords), read through JourneyReader and JourneyReads.
        ["profiles"] = "Storage", ["events"] = "Storage", ["phase_history"] = "Storage", ["anonymous_links"] = "Storage",
        ["email_lookup"] = "Storage", ["audit_log"] = "Storage", ["worker_secrets"] = "Storage", ["schema_migrations"] = "Storage",
        ["outbox"] = "Messaging",
        ["scheduled_actions"] = "Actions", ["action_log"] = "Actions", ["results_counts"] = "Actions", ["results_profiles"] = "Actions",
        ["campaign_scans"] = "Campaigns", ["rules_versions"] = "Campaigns", ["rules_activations"] = "Campaigns",
        ["placements"] = "Channels", ["offers"] = "Channels", ["audience_members"] = "Channels", ["connector_outbox"] = "Channels",
        ["email_suppressions"] = "Channels",
        ["funnel_counts"] = "Journeys", ["funnel_profiles"] = "Journeys", ["funnel_state"] = "Journeys", ["results_goals"] = "Journeys",
    };

    /// <summary>SQL naming another folder's table, on purpose: a file, the table, and why.</summary>
    static readonly (string File, string Table, string Why)[] Exceptions =
    [
        // Hot-path joins, each named beside its SQL with its measurement (docs/benchmarks.md).
        ("Actions/ActionDispatcher.cs", "profiles", "hot path: a poll reads its actions' customers (traits) and the messages' trigger events in one round trip with the claim; through the readers each mail took two single-row reads (4,810 and 4,398 round trips a run gone; PostgreSQL emails 71 % → 84 % of the sink)"),
        ("Actions/ActionDispatcher.cs", "events", "hot path: the same round trip"),
        ("Campaigns/CampaignScheduler.cs", "events", "hot path: planning reads the late triggers' exit events in the journey transaction's round trip (PostgreSQL server 270-282 → 161-177 µs a message)"),
        ("Channels/PlacementQueries.cs", "anonymous_links", "hot path: the webshop's placement read resolves a device to its customer in the same statement (5,000 reads/s, p99 2.2 / 3.4 ms)"),
        // Set jobs: a statement over many customers at once, where a reader per customer would be a round trip each.
        ("Campaigns/TriggerScans.cs", "profiles", "a set scan: the inactivity scan pages the profiles by seen_hour"),
        ("Actions/CampaignResults.cs", "profiles", "a set job: the results counting joins the treated customers"),
        ("Actions/CampaignResults.cs", "events", "a set job: the results counting reads the goal events of the treated customers"),
        ("Journeys/FunnelCounters.cs", "profiles", "a set job: the funnel counting"),
        ("Journeys/FunnelCounters.cs", "events", "a set job: the funnel counting"),
        ("Journeys/FunnelCounters.cs", "phase_history", "a set job: the funnel counting"),
        ("Journeys/FunnelCounters.cs", "anonymous_links", "a set job: the funnel counting"),
        ("Journeys/FunnelCounters.cs", "action_log", "a set job: the results goals follow the outcome log"),
        // Reads that name a customer beside what the owner lists.
        ("Actions/ActionStore.Queries.cs", "profiles", "the outcome log and the customer's actions name the customer (a LEFT JOIN for the customer id)"),
        ("Storage/JourneyReader.cs", "offers", "the customer's page lists the offer codes issued to them (read with the journey)"),
        ("Storage/SchemaMigrator.cs", "email_suppressions", "a migration's code step (0014: the suppressions keyed by the address's hash)"),
    ];

    [GeneratedRegex(@"\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+(?<table>[a-z_]+)\b")]
    private static partial Regex TableReference();

    [GeneratedRegex(@"CREATE TABLE (IF NOT EXISTS )?(?<table>[a-z][a-z0-9_]*)")]
    private static partial Regex CreateTable();

    [Fact]
    public void Every_table_has_an_owner()
    {
        var migrations = Path.Combine(RepositoryRoot(), "src", "CampaignOrchestrator.Infrastructure", "Storage", "Migrations");
        var created = Directory.GetFiles(migrations, "*.sql", SearchOption.AllDirectories)
            .SelectMany(f => CreateTable().Matches(File.ReadAllText(f)).Select(m => m.Groups["table"].Value))
            .Where(t => !Regex.IsMatch(t, @"_\d{4}$"))   // a migration's table under its new shape, renamed in the same script
            .ToHashSet(StringComparer.Ordinal);
        Assert.Empty(created.Except(Owners.Keys));
    }

    [Fact]
    public void SQL_naming_a_table_is_in_its_owners_folder_or_a_named_exception()
    {
        var src = Path.Combine(RepositoryRoot(), "src");
        var found = new HashSet<(string File, string Table)>();
        var wrong = new List<string>();
        foreach (var file in Directory.GetFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(src, file).Replace('\\', '/');
            if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal))
                continue;
            var parts = relative.Split('/');
            var infrastructure = parts[0] == "CampaignOrchestrator.Infrastructure" && parts.Length > 2;
            var folder = infrastructure ? parts[1] : parts[0];
            if (folder == "Privacy")
                continue;
            var inFolder = infrastructure ? string.Join('/', parts[1..]) : relative;
            foreach (Match m in TableReference().Matches(File.ReadAllText(file)))
            {
                var table = m.Groups["table"].Value;
                if (!Owners.TryGetValue(table, out var owner) || owner == folder)
                    continue;
                if (Exceptions.Any(e => e.File == inFolder && e.Table == table))
                    found.Add((inFolder, table));
                else
                    wrong.Add($"{relative} names {table} (owned by {owner}): ask the owner's reader, or name it an exception with why");
            }
        }
        Assert.Empty(wrong.Distinct());
        // An exception that no longer happens goes from the list.
        Assert.Empty(Exceptions.Select(e => (e.File, e.Table)).Except(found));
    }

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CampaignOrchestrator.sln")))
                return dir.FullName;
        throw new InvalidOperationException("the repository root (CampaignOrchestrator.sln) was not found above " + AppContext.BaseDirectory);
    }
}
