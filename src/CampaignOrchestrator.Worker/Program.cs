using CampaignOrchestrator.Worker.Hosting;

// The table of contents: where events enter (AddInbound), where journeys are kept (AddJourneyStore),
// and what operators can read (MapOperatorApi). Each is an extension in Hosting/.
var app = WorkerApp.Build(args);
if (app is null)
    return 2; // invalid configuration; the reason was printed
await app.RunAsync();
return 0;
