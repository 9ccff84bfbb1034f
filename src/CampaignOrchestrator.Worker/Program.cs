using CampaignOrchestrator.Worker.Commands;
using CampaignOrchestrator.Worker.Hosting;

// `rules validate PATH`: check rules without starting the worker; `keys create`: a new API key.
if (RulesCommand.Handles(args))
    return RulesCommand.Run(args, Console.Out, Console.Error);
if (KeysCommand.Handles(args))
    return KeysCommand.Run(args, Console.Out, Console.Error);
// `errors|actions|customers ...`: the operator CLI, a client of a running worker's API.
if (ApiCommand.Handles(args))
    return await ApiCommand.RunAsync(args, Console.Out, Console.Error);
// Anything else that is a word is a mistyped command: say so, rather than start a worker with the default settings.
if (CommandLine.IsUnknownCommand(args))
{
    Console.Error.WriteLine($"unknown command '{args[0]}'");
    Console.Error.Write(CommandLine.Usage);
    return 2;
}

// The table of contents: where events enter (AddInbound), where journeys are kept (AddJourneyStore),
// where rules are judged and actions fired (AddCampaigns), and what operators can read (MapOperatorApi).
// Each is an extension in Hosting/.
var app = WorkerApp.Build(args);
if (app is null)
    return 2; // invalid configuration; the reason was printed
await app.RunAsync();
return 0;
