using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using CampaignOrchestrator.Worker.Preview;

namespace CampaignOrchestrator.Worker.Commands;

/// <summary>
/// <c>rules simulate --rules PATH --events FILE.jsonl [--until DURATION]</c>: the dry run for marketers.
/// Replays the events (one wire-contract JSON object per line, in the order given) on a virtual clock
/// through the worker's own journey store, rules, dispatcher and trigger scans, on a throwaway
/// database (the real store is never touched), and prints what would happen and why: which campaign
/// started or not (the failing condition, re-entry), each step's due time, cancellations with the
/// event that caused them, and what every step became when it fell due. Nothing is sent.
/// </summary>
internal static class SimulateCommand
{
    const string Usage = "usage: rules simulate --rules PATH --events FILE.jsonl [--until DURATION]   (DURATION after the last event, default 90d)";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors)
    {
        string? Option(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var (rulesPath, eventsPath, untilText) = (Option("--rules"), Option("--events"), Option("--until") ?? "90d");
        if (rulesPath is null || eventsPath is null || !RulesParser.TryParseDuration(untilText, out var horizon))
        {
            errors.WriteLine(Usage);
            return 2;
        }
        // Email templates checked as the worker checks them: a mail whose template does not exist is no "delivered".
        if (RulesCommand.Load(rulesPath, errors, RulesCommand.Templates(null, errors, out _)) is not { } loaded)
            return 1;
        if (!File.Exists(eventsPath))
        {
            errors.WriteLine($"No events file at '{eventsPath}'");
            return 1;
        }

        // The events, checked as the worker checks them (a line that breaks the contract is reported and left out).
        var events = new List<AcceptedEvent>();
        var lineNumber = 0;
        foreach (var line in await File.ReadAllLinesAsync(eventsPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                events.Add(JourneyEventValidator.Validate(Encoding.UTF8.GetBytes(line), DateTimeOffset.MaxValue.AddDays(-2), EventLimits.History));
            }
            catch (JourneyEventRejectedException ex)
            {
                errors.WriteLine($"{eventsPath}:{lineNumber}: left out: {ex.Message}");
            }
        }
        if (events.Count == 0)
        {
            errors.WriteLine($"{eventsPath}: no valid events");
            return 1;
        }

        var rules = new CompiledRules(loaded.Rules, loaded.Version);
        var folder = Directory.CreateTempSubdirectory("co-simulate-").FullName;
        try
        {
            var run = new Simulation(rules, folder, output);
            await run.StartAsync(events.Min(e => e.OccurredAt));
            output.WriteLine($"Dry run of rules version {rules.Version} ({rules.Campaigns.Count} campaigns) over {events.Count} event(s) from {eventsPath}; " +
                $"times in {rules.Rules.Defaults.TimeZone.Id}. Nothing is sent.");
            foreach (var e in events)
            {
                await run.AdvanceToAsync(e.OccurredAt);
                await run.ConsumeAsync(e);
            }
            await run.AdvanceToAsync(events.Max(e => e.OccurredAt) + horizon);
            await run.SummaryAsync();
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }
}
