using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>The planner's answer: a plan, or why there is none.</summary>
public sealed record PlanDecision(InstancePlan? Plan, string? SkipReason);
