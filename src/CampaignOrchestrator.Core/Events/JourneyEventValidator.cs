using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CampaignOrchestrator.Contracts.Inbound;

namespace CampaignOrchestrator.Core.Events;

/// <summary>
/// Checks every rule of wire contract v1 and turns a message body into an <see cref="AcceptedEvent"/>,
/// or throws <see cref="JourneyEventRejectedException"/> with a reason an operator can act on.
/// Unknown top-level fields are accepted and ignored, so publishers can extend the contract.
/// The body is parsed once (<see cref="JsonDocument"/>); the objects are kept as their published text.
/// </summary>
public static partial class JourneyEventValidator
{
    /// <summary>Longest accepted eventId, customerId and anonymousId.</summary>
    public const int MaxIdLength = 128;

    /// <summary>How far ahead of the worker's clock occurredAt may be.</summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromHours(24);

    static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    static readonly string[] StringTraits = ["email", "firstName", "lastName", "locale", "timeZone", "persona", "segment", "country"];

    /// <summary>Validates a raw UTF-8 JSON body.</summary>
    /// <exception cref="JourneyEventRejectedException">The body breaks the contract.</exception>
    public static AcceptedEvent Validate(ReadOnlyMemory<byte> body, DateTimeOffset now)
    {
        if (body.Length > JourneyEventsTopology.MaxBodyBytes)
            throw new JourneyEventRejectedException(
                $"body is {body.Length} bytes; the limit is {JourneyEventsTopology.MaxBodyBytes} bytes (256 KiB)");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new JourneyEventRejectedException($"body is not valid JSON: {ex.Message}");
        }
        using (document)
            return Validate(document.RootElement, now);
    }

    static AcceptedEvent Validate(JsonElement root, DateTimeOffset now)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new JourneyEventRejectedException($"body must be a JSON object, was {Describe(root.ValueKind)}");

        var eventId = ReadString(root, "eventId")
            ?? throw new JourneyEventRejectedException(Missing(root, "eventId", "a string of 1-128 characters"));
        if (eventId.Length is 0 or > MaxIdLength)
            throw new JourneyEventRejectedException($"eventId must be 1-{MaxIdLength} characters, was {eventId.Length}");

        var type = ReadString(root, "type")
            ?? throw new JourneyEventRejectedException(Missing(root, "type", "a string like cart_abandoned"), eventId);
        if (!TypePattern().IsMatch(type))
            throw new JourneyEventRejectedException(
                $"type '{Truncate(type)}' must match ^[a-z][a-z0-9_]{{0,63}}$ (lower-case snake_case)", eventId);

        var occurredText = ReadString(root, "occurredAt")
            ?? throw new JourneyEventRejectedException(
                Missing(root, "occurredAt", "an ISO-8601 timestamp with offset, e.g. 2026-11-22T10:15:00+01:00"), eventId);
        var occurredAt = ParseTimestamp(occurredText, eventId);
        if (occurredAt - now > MaxFutureSkew)
            throw new JourneyEventRejectedException(
                $"occurredAt {occurredText} is more than 24 h in the future (worker clock {now:O})", eventId);

        var customerId = ReadOptionalId(root, "customerId", eventId);
        var anonymousId = ReadOptionalId(root, "anonymousId", eventId);
        if (customerId is null && anonymousId is null)
            throw new JourneyEventRejectedException("at least one of customerId and anonymousId is required", eventId);

        var traits = ReadOptionalObject(root, "traits", eventId);
        if (traits is { } t)
            CheckWellKnownTraits(t, eventId);
        var properties = ReadOptionalObject(root, "properties", eventId);
        var context = ReadOptionalObject(root, "context", eventId);
        if (type == Phases.PhaseModel.PhaseReset
            && !(properties is { } p && p.TryGetProperty("phase", out var phase) && phase.ValueKind == JsonValueKind.String && Phases.PhaseNames.TryParse(phase.GetString(), out _)))
            throw new JourneyEventRejectedException("a phase_reset needs properties.phase: awareness, consideration, purchase, retention or loyalty", eventId);

        return AcceptedEvent.FromJson(eventId, type, occurredAt, customerId, anonymousId,
            traits?.GetRawText(), properties?.GetRawText(), context?.GetRawText());
    }

    static void CheckWellKnownTraits(JsonElement traits, string eventId)
    {
        foreach (var name in StringTraits)
        {
            if (traits.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                throw new JourneyEventRejectedException($"traits.{name} must be a string, was {Describe(value.ValueKind)}", eventId);
        }
        if (traits.TryGetProperty("emailConsent", out var consent) && consent.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            throw new JourneyEventRejectedException($"traits.emailConsent must be true or false, was {Describe(consent.ValueKind)}", eventId);
        if (traits.TryGetProperty("timeZone", out var tzValue) && tzValue.ValueKind == JsonValueKind.String
            && tzValue.GetString() is { } tz && !TimeZoneInfo.TryFindSystemTimeZoneById(tz, out _))
            throw new JourneyEventRejectedException($"traits.timeZone '{Truncate(tz)}' is not a known IANA time zone (e.g. Europe/Amsterdam)", eventId);
        if (traits.TryGetProperty("locale", out var localeValue) && localeValue.ValueKind == JsonValueKind.String
            && localeValue.GetString() is { } locale && !LocalePattern().IsMatch(locale))
            throw new JourneyEventRejectedException($"traits.locale '{Truncate(locale)}' is not a BCP 47 tag (e.g. nl-NL)", eventId);
    }

    static DateTimeOffset ParseTimestamp(string text, string eventId)
    {
        if (!TimestampPattern().IsMatch(text)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
            throw new JourneyEventRejectedException(
                $"occurredAt '{Truncate(text)}' is not an ISO-8601 timestamp with offset (e.g. 2026-11-22T10:15:00+01:00 or ...Z)", eventId);
        return value;
    }

    static string? ReadOptionalId(JsonElement obj, string name, string eventId)
    {
        if (!obj.TryGetProperty(name, out var node) || node.ValueKind == JsonValueKind.Null)
            return null;
        if (node.ValueKind != JsonValueKind.String)
            throw new JourneyEventRejectedException($"{name} must be a string, was {Describe(node.ValueKind)}", eventId);
        var value = node.GetString()!;
        if (value.Length is 0 or > MaxIdLength)
            throw new JourneyEventRejectedException($"{name} must be 1-{MaxIdLength} characters, was {value.Length}", eventId);
        return value;
    }

    static JsonElement? ReadOptionalObject(JsonElement obj, string name, string eventId)
    {
        if (!obj.TryGetProperty(name, out var node) || node.ValueKind == JsonValueKind.Null)
            return null;
        return node.ValueKind == JsonValueKind.Object
            ? node
            : throw new JourneyEventRejectedException($"{name} must be a JSON object, was {Describe(node.ValueKind)}", eventId);
    }

    static string? ReadString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var node) && node.ValueKind == JsonValueKind.String ? node.GetString() : null;

    static string Missing(JsonElement obj, string name, string expected) =>
        obj.TryGetProperty(name, out var node) && node.ValueKind != JsonValueKind.Null
            ? $"{name} must be {expected}, was {Describe(node.ValueKind)}"
            : $"{name} is required ({expected})";

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => "null",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "unknown",
    };

    static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex TypePattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex TimestampPattern();

    [GeneratedRegex("^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$", RegexOptions.CultureInvariant)]
    private static partial Regex LocalePattern();
}
