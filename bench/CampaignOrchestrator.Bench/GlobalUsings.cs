global using CampaignOrchestrator.Infrastructure.Actions;
global using CampaignOrchestrator.Infrastructure.Journeys;
