global using CampaignOrchestrator.Infrastructure.Actions;
global using CampaignOrchestrator.Infrastructure.Journeys;
global using CampaignOrchestrator.Integration.Tests.Support;
