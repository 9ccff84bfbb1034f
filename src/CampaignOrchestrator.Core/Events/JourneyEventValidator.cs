using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CampaignOrchestrator.Contracts.Inbound;

namespace CampaignOrchestrator.Core.Events;

/// <summary>
/// Checks every rule of wire contract v1 and turns a message into an <see cref="AcceptedEvent"/>,
/// or throws <see cref="JourneyEventRejectedException"/> with a reason an operator can act on.
/// Unknown top-level fields are accepted and ignored, so publishers can extend the contract.
/// </summary>
public static partial class JourneyEventValidator
{
    /// <summary>Longest accepted eventId, customerId and anonymousId.</summary>
    public const int MaxIdLength = 128;

    /// <summary>How far ahead of the worker's clock occurredAt may be.</summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromHours(24);

    static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>Validates a raw UTF-8 JSON body.</summary>
    /// <exception cref="JourneyEventRejectedException">The body breaks the contract.</exception>
    public static AcceptedEvent Validate(ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (body.Length > JourneyEventsTopology.MaxBodyBytes)
            throw new JourneyEventRejectedException(
                $"body is {body.Length} bytes; the limit is {JourneyEventsTopology.MaxBodyBytes} bytes (256 KiB)");
        JsonNode? node;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = DocumentOptions.MaxDepth });
            node = JsonNode.Parse(ref reader);
        }
        catch (JsonException ex)
        {
            throw new JourneyEventRejectedException($"body is not valid JSON: {ex.Message}");
        }
        return Validate(node, body.Length, now);
    }

    /// <summary>Validates an already parsed body of <paramref name="bodyBytes"/> bytes.</summary>
    /// <exception cref="JourneyEventRejectedException">The body breaks the contract.</exception>
    public static AcceptedEvent Validate(JsonNode? node, int bodyBytes, DateTimeOffset now)
    {
        if (bodyBytes > JourneyEventsTopology.MaxBodyBytes)
            throw new JourneyEventRejectedException(
                $"body is {bodyBytes} bytes; the limit is {JourneyEventsTopology.MaxBodyBytes} bytes (256 KiB)");
        if (node is not JsonObject obj)
            throw new JourneyEventRejectedException(
                $"body must be a JSON object, was {Describe(node)}");

        var eventId = TryReadString(obj, "eventId");
        if (eventId is null)
            throw new JourneyEventRejectedException(Missing(obj, "eventId", "a string of 1-128 characters"));
        if (eventId.Length is 0 or > MaxIdLength)
            throw new JourneyEventRejectedException($"eventId must be 1-{MaxIdLength} characters, was {eventId.Length}");

        var type = TryReadString(obj, "type")
            ?? throw new JourneyEventRejectedException(Missing(obj, "type", "a string like cart_abandoned"), eventId);
        if (!TypePattern().IsMatch(type))
            throw new JourneyEventRejectedException(
                $"type '{Truncate(type)}' must match ^[a-z][a-z0-9_]{{0,63}}$ (lower-case snake_case)", eventId);

        var occurredText = TryReadString(obj, "occurredAt")
            ?? throw new JourneyEventRejectedException(
                Missing(obj, "occurredAt", "an ISO-8601 timestamp with offset, e.g. 2026-11-22T10:15:00+01:00"), eventId);
        var occurredAt = ParseTimestamp(occurredText, eventId);
        if (occurredAt - now > MaxFutureSkew)
            throw new JourneyEventRejectedException(
                $"occurredAt {occurredText} is more than 24 h in the future (worker clock {now:O})", eventId);

        var customerId = ReadOptionalId(obj, "customerId", eventId);
        var anonymousId = ReadOptionalId(obj, "anonymousId", eventId);
        if (customerId is null && anonymousId is null)
            throw new JourneyEventRejectedException("at least one of customerId and anonymousId is required", eventId);

        var traits = ReadOptionalObject(obj, "traits", eventId);
        var properties = ReadOptionalObject(obj, "properties", eventId);
        var context = ReadOptionalObject(obj, "context", eventId);
        if (traits is not null)
            CheckWellKnownTraits(traits, eventId);

        return new AcceptedEvent(eventId, type, occurredAt, customerId, anonymousId,
            Detach(traits), Detach(properties), Detach(context));
    }

    static void CheckWellKnownTraits(JsonObject traits, string eventId)
    {
        foreach (var name in (string[])["email", "firstName", "lastName", "locale", "timeZone", "persona", "segment", "country"])
        {
            if (traits[name] is { } value && value.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Null))
                throw new JourneyEventRejectedException($"traits.{name} must be a string, was {Describe(value)}", eventId);
        }
        if (traits["emailConsent"] is { } consent && consent.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            throw new JourneyEventRejectedException($"traits.emailConsent must be true or false, was {Describe(consent)}", eventId);
        if (traits["timeZone"] is JsonValue tzValue && tzValue.TryGetValue<string>(out var tz)
            && !TimeZoneInfo.TryFindSystemTimeZoneById(tz, out _))
            throw new JourneyEventRejectedException($"traits.timeZone '{Truncate(tz)}' is not a known IANA time zone (e.g. Europe/Amsterdam)", eventId);
        if (traits["locale"] is JsonValue localeValue && localeValue.TryGetValue<string>(out var locale)
            && !LocalePattern().IsMatch(locale))
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

    static string? ReadOptionalId(JsonObject obj, string name, string eventId)
    {
        if (!obj.TryGetPropertyValue(name, out var node) || node is null)
            return null;
        if (node.GetValueKind() != JsonValueKind.String)
            throw new JourneyEventRejectedException($"{name} must be a string, was {Describe(node)}", eventId);
        var value = node.GetValue<string>();
        if (value.Length is 0 or > MaxIdLength)
            throw new JourneyEventRejectedException($"{name} must be 1-{MaxIdLength} characters, was {value.Length}", eventId);
        return value;
    }

    static JsonObject? ReadOptionalObject(JsonObject obj, string name, string eventId)
    {
        if (!obj.TryGetPropertyValue(name, out var node) || node is null)
            return null;
        return node as JsonObject
            ?? throw new JourneyEventRejectedException($"{name} must be a JSON object, was {Describe(node)}", eventId);
    }

    static string? TryReadString(JsonObject obj, string name) =>
        obj.TryGetPropertyValue(name, out var node) && node is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : null;

    static string Missing(JsonObject obj, string name, string expected) =>
        obj.TryGetPropertyValue(name, out var node) && node is not null
            ? $"{name} must be {expected}, was {Describe(node)}"
            : $"{name} is required ({expected})";

    static JsonObject? Detach(JsonObject? obj)
    {
        if (obj is null)
            return null;
        // The parsed tree is owned by the message; detach a copy so it can be stored and merged.
        return (JsonObject)obj.DeepClone();
    }

    static string Describe(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
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
