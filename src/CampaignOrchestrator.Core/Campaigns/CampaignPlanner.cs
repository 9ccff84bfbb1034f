using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Core.Phases;
using CampaignOrchestrator.Core.Rules;

namespace CampaignOrchestrator.Core.Campaigns;

/// <summary>
/// Turns a trigger into a campaign instance (docs/rules.md): conditions, re-entry, holdout, variants
/// and the steps' due times (each delay from the previous step, the first from the trigger's
/// occurredAt; <c>at</c> waits for the next such local time in the customer's zone). Re-entry is
/// judged per customer and campaign: once ever by default, except for schedules, which start at every
/// firing unless <c>reentry</c> says otherwise. Pure: the store
/// supplies earlier instances and writes the result.
/// </summary>
public static class CampaignPlanner
{
    /// <summary>Plans <paramref name="campaign"/> for <paramref name="customer"/>.</summary>
    /// <param name="earlierStarts">When this campaign started for this customer before (trigger occurredAt).</param>
    public static PlanDecision Plan(Campaign campaign, TriggerOccurrence trigger, CustomerState customer, RuleDefaults defaults,
        IEnumerable<DateTimeOffset> earlierStarts)
    {
        var subject = new ConditionSubject(customer.Traits, trigger.Properties, trigger.Context, customer.Phase, customer.OrderCount, customer.OrderTotal, trigger.EventType);
        if (ConditionEvaluator.Explain(campaign.Conditions, subject) is { } failed)
            return new PlanDecision(null, "conditions not met: " + failed);
        // A schedule starts the campaign at every firing unless its re-entry says otherwise.
        if (campaign.Trigger is ScheduleTrigger && campaign.ReentryAfter is null)
            earlierStarts = [];
        foreach (var earlier in earlierStarts)
        {
            if (campaign.ReentryAfter is not { } after)
                return new PlanDecision(null, $"re-entry: started before at {earlier:O} and the campaign runs once per customer");
            if ((trigger.OccurredAt - earlier).Duration() < after)
                return new PlanDecision(null, $"re-entry: started at {earlier:O}, less than {after} before");
        }

        var key = campaign.Key is null ? null : KeyValue(ConditionEvaluator.Field(campaign.Key, subject));
        var instanceId = Hash(campaign.Id, customer.ProfileId, trigger.TriggerId);
        var holdout = campaign.HoldoutShare > 0 && Bucket(campaign.Id, "holdout", customer.StableId) < campaign.HoldoutShare;
        var zone = ZoneOf(customer.Traits, defaults);
        var due = trigger.OccurredAt;
        var actions = new List<PlannedAction>(campaign.Steps.Count);
        for (var i = 0; i < campaign.Steps.Count; i++)
        {
            var step = campaign.Steps[i];
            due += step.Delay;
            if (step.At is { } at)
                due = LocalTimes.NextAt(due, at, zone);
            var variant = PickVariant(step.Variants, campaign.Id, i + 1, customer.StableId);
            actions.Add(new PlannedAction(ActionId(campaign.Id, i + 1, customer.ProfileId, trigger.TriggerId), i + 1, due, variant, step.Variants[variant].Action));
        }
        return new PlanDecision(new InstancePlan(campaign, instanceId, key, holdout, actions), null);
    }

    /// <summary>The stable id of a step: the same campaign, step, customer and trigger always give the same id.</summary>
    public static string ActionId(string campaignId, int step, string profileId, string triggerId) =>
        Hash(campaignId, step.ToString(System.Globalization.CultureInfo.InvariantCulture), profileId, triggerId);

    /// <summary>The customer's time zone: <c>traits.timeZone</c> when it is a known IANA zone, else the default.</summary>
    public static TimeZoneInfo ZoneOf(IReadOnlyDictionary<string, JsonNode?> traits, RuleDefaults defaults) =>
        traits.GetValueOrDefault("timeZone") is JsonValue v && v.GetValueKind() == JsonValueKind.String
            && TimeZoneInfo.TryFindSystemTimeZoneById(v.GetValue<string>(), out var zone)
            ? zone
            : defaults.TimeZone;

    /// <summary>The text of a key field's value (a cart id, an order id), or null when the event lacks it.</summary>
    public static string? KeyValue(JsonNode? value) => value switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => value.ToJsonString(),
    };

    /// <summary>A number in [0, 1) that depends only on the inputs: stable per customer, not random.</summary>
    public static double Bucket(params ReadOnlySpan<string> parts)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Digest(parts, hash);
        return BitConverter.ToUInt64(hash) / 18446744073709551616.0;
    }

    static int PickVariant(IReadOnlyList<Variant> variants, string campaignId, int step, string stableId)
    {
        if (variants.Count == 1)
            return 0;
        var total = variants.Sum(v => v.Weight);
        var point = Bucket(campaignId, "variant", step.ToString(System.Globalization.CultureInfo.InvariantCulture), stableId) * total;
        for (var i = 0; i < variants.Count; i++)
        {
            point -= variants[i].Weight;
            if (point < 0)
                return i;
        }
        return variants.Count - 1;
    }

    /// <summary>The first 32 hex digits of SHA-256 over the parts joined by newlines.</summary>
    static string Hash(params ReadOnlySpan<string> parts)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Digest(parts, hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    /// <summary>SHA-256 of the parts' UTF-8 joined by newlines, without building the joined string (planning hashes several ids a step).</summary>
    static void Digest(ReadOnlySpan<string> parts, Span<byte> hash)
    {
        var length = parts.Length - 1;
        foreach (var part in parts)
            length += Encoding.UTF8.GetByteCount(part);
        byte[]? rented = null;
        var buffer = length <= 512 ? stackalloc byte[512] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(length));
        var at = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0)
                buffer[at++] = (byte)'\n';
            at += Encoding.UTF8.GetBytes(parts[i], buffer[at..]);
        }
        SHA256.HashData(buffer[..at], hash);
        if (rented is not null)
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
    }
}
