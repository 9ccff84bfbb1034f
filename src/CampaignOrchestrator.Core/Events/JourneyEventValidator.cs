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

    static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    static readonly string[] StringTraits = ["email", "firstName", "lastName", "locale", "timeZone", "persona", "segment", "country"];

    /// <summary>Validates a raw UTF-8 JSON body.</summary>
    /// <exception cref="JourneyEventRejectedException">The body breaks the contract.</exception>
    public static AcceptedEvent Validate(ReadOnlyMemory<byte> body, DateTimeOffset now, EventLimits? limits = null)
    {
        limits ??= EventLimits.Default;
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
        {
            // A \uD800-\uDFFF escape without its pair parses, but is no text: reading it would throw later (a template,
            // the API). Only a body that holds such an escape is walked.
            if (MayHoldSurrogateEscape(body.Span) && BrokenString(document.RootElement) is { } path)
                throw new JourneyEventRejectedException($"{path} is not valid text (an unpaired surrogate escape)");
            return Validate(document.RootElement, now, limits);
        }
    }

    static AcceptedEvent Validate(JsonElement root, DateTimeOffset now, EventLimits limits)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new JourneyEventRejectedException($"body must be a JSON object, was {Describe(root.ValueKind)}");

        var eventId = ReadString(root, "eventId")
            ?? throw new JourneyEventRejectedException(Missing(root, "eventId", "a string of 1-128 characters"));
        if (eventId.Length is 0 or > MaxIdLength)
            throw new JourneyEventRejectedException($"eventId must be 1-{MaxIdLength} characters, was {eventId.Length}");
        if (Unprintable(eventId) is { } bad)
            throw new JourneyEventRejectedException($"eventId must not contain control, format or unpaired surrogate characters (U+{(int)eventId[bad]:X4} at {bad})");

        var type = ReadString(root, "type")
            ?? throw new JourneyEventRejectedException(Missing(root, "type", "a string like cart_abandoned"), eventId);
        if (!TypePattern().IsMatch(type))
            throw new JourneyEventRejectedException(
                $"type '{Truncate(type)}' must match ^[a-z][a-z0-9_]{{0,63}}$ (lower-case snake_case)", eventId);

        var occurredText = ReadString(root, "occurredAt")
            ?? throw new JourneyEventRejectedException(
                Missing(root, "occurredAt", "an ISO-8601 timestamp with offset, e.g. 2026-11-22T10:15:00+01:00"), eventId);
        var occurredAt = ParseTimestamp(occurredText, eventId);
        if (occurredAt > now && occurredAt - now > limits.MaxFutureSkew)
            throw new JourneyEventRejectedException(
                $"occurredAt {occurredText} is more than {limits.MaxFutureSkew.TotalHours:0.##} h in the future (worker clock {now:O}; Bus:Events:MaxFutureSkew)", eventId);
        if (limits.MaxAge != TimeSpan.MaxValue && occurredAt < now && now - occurredAt > limits.MaxAge)
            throw new JourneyEventRejectedException(
                $"occurredAt {occurredText} is more than {limits.MaxAge.TotalDays:0} days in the past (worker clock {now:O}; Bus:Events:MaxAge)", eventId);

        var customerId = ReadOptionalId(root, "customerId", eventId);
        var anonymousId = ReadOptionalId(root, "anonymousId", eventId);
        if (customerId is null && anonymousId is null)
            throw new JourneyEventRejectedException("at least one of customerId and anonymousId is required", eventId);

        var traits = ReadOptionalObject(root, "traits", eventId);
        if (traits is { } t)
        {
            CheckTraitBounds(t, limits, eventId);
            CheckWellKnownTraits(t, eventId);
        }
        var properties = ReadOptionalObject(root, "properties", eventId);
        if (properties is { } props)
            foreach (var amount in AmountProperties)
                CheckAmount(props, amount, "properties." + amount, eventId);
        var context = ReadOptionalObject(root, "context", eventId);
        if (type == Phases.PhaseModel.PhaseReset
            && !(properties is { } p && p.TryGetProperty("phase", out var phase) && phase.ValueKind == JsonValueKind.String && Phases.PhaseNames.TryParse(phase.GetString(), out _)))
            throw new JourneyEventRejectedException("a phase_reset needs properties.phase: awareness, consideration, purchase, retention or loyalty", eventId);

        return AcceptedEvent.FromJson(eventId, type, occurredAt, customerId, anonymousId,
            traits?.GetRawText(), properties?.GetRawText(), context?.GetRawText());
    }

    static bool MayHoldSurrogateEscape(ReadOnlySpan<byte> body)
    {
        for (var i = body.IndexOf("\\u"u8); i >= 0 && i + 3 < body.Length; )
        {
            if (body[i + 2] is (byte)'d' or (byte)'D' && body[i + 3] is >= (byte)'8' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F')
                return true;
            var next = body[(i + 2)..].IndexOf("\\u"u8);
            i = next < 0 ? -1 : i + 2 + next;
        }
        return false;
    }

    /// <summary>The path of the first property name or string that is not valid UTF-16, or null.</summary>
    static string? BrokenString(JsonElement element, string path = "body")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                try
                {
                    var s = element.GetString()!;
                    for (var i = 0; i < s.Length; i++)
                        if (char.IsSurrogate(s[i]) && !(char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[++i])))
                            return path;
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return path;
                }
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = p.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return path;
                    }
                    if (Unprintable(name) is not null && name.Any(char.IsSurrogate))
                        return path;
                    if (BrokenString(p.Value, path == "body" ? name : path + "." + name) is { } inner)
                        return inner;
                }
                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                    if (BrokenString(item, $"{path}[{index++}]") is { } inner)
                        return inner;
                return null;
            default:
                return null;
        }
    }

    /// <summary>The money fields: a number (or numeric text) within ±<see cref="EventLimits.MaxAmount"/>.</summary>
    static readonly string[] AmountProperties = ["total", "cartValue"];

    static void CheckAmount(JsonElement obj, string name, string path, string eventId)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number)
            return;
        if (!value.TryGetDecimal(out var d) || Math.Abs(d) > EventLimits.MaxAmount)
            throw new JourneyEventRejectedException($"{path} {Truncate(value.GetRawText())} is out of range (at most ±{EventLimits.MaxAmount:0})", eventId);
    }

    static void CheckTraitBounds(JsonElement traits, EventLimits limits, string eventId)
    {
        var count = 0;
        foreach (var trait in traits.EnumerateObject())
        {
            if (++count > limits.MaxTraits)
                throw new JourneyEventRejectedException($"traits has more than {limits.MaxTraits} keys (Bus:Events:MaxTraits)", eventId);
            if (trait.Name.Length is 0 or > 64 || Unprintable(trait.Name) is not null)
                throw new JourneyEventRejectedException($"trait name '{Truncate(Printable(trait.Name))}' must be 1-64 printable characters", eventId);
            if (trait.Value.ValueKind == JsonValueKind.Number && (!trait.Value.TryGetDecimal(out var d) || Math.Abs(d) > EventLimits.MaxAmount))
                throw new JourneyEventRejectedException($"traits.{trait.Name} {Truncate(trait.Value.GetRawText())} is out of range (at most ±{EventLimits.MaxAmount:0})", eventId);
        }
        var bytes = System.Text.Encoding.UTF8.GetByteCount(traits.GetRawText());
        if (bytes > limits.MaxTraitsBytes)
            throw new JourneyEventRejectedException($"traits is {bytes} bytes; the limit is {limits.MaxTraitsBytes} (Bus:Events:MaxTraitsBytes)", eventId);
    }

    /// <summary>The position of the first control (C0, C1, DEL), format (bidi overrides, zero-width) or unpaired surrogate character, or null.</summary>
    public static int? Unprintable(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(c) || char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
                return i;
        }
        return null;
    }

    /// <summary>The value with what <see cref="Unprintable"/> finds shown as U+XXXX (for messages and logs).</summary>
    public static string Printable(string value) =>
        Unprintable(value) is null ? value : string.Concat(value.Select(c => char.IsControl(c) || char.IsSurrogate(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format ? $"U+{(int)c:X4}" : c.ToString()));

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
        if (Unprintable(value) is { } bad)
            throw new JourneyEventRejectedException($"{name} must not contain control, format or unpaired surrogate characters (U+{(int)value[bad]:X4} at {bad})", eventId);
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

    static string Truncate(string s)
    {
        s = Printable(s);
        return s.Length <= 80 ? s : s[..80] + "…";
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex TypePattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex TimestampPattern();

    [GeneratedRegex("^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$", RegexOptions.CultureInvariant)]
    private static partial Regex LocalePattern();
}
