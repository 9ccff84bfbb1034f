using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Core.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>Who an unsubscribe link is for.</summary>
public sealed record UnsubscribeRequest(string ProfileId, string Address, string ActionId);
