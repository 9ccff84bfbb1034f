using System.Text;
using CampaignOrchestrator.Core.Events;

namespace CampaignOrchestrator.Core.Tests;

public sealed class JourneyEventValidatorTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    static AcceptedEvent Validate(string json) => JourneyEventValidator.Validate(Encoding.UTF8.GetBytes(json), Now);

    static string Reject(string json) => Assert.Throws<JourneyEventRejectedException>(() => Validate(json)).Message;

    [Fact]
    public void The_contract_example_is_accepted_with_its_offset_and_objects()
    {
        var e = Validate("""
            {"eventId":"0b7c6f1e-3c1a-4e43-9a8a-2f0e6f0b1a01","type":"cart_abandoned","occurredAt":"2026-11-22T10:15:00+01:00",
             "customerId":"cust-1001","anonymousId":"dev-7f3a",
             "traits":{"email":"anna@example.com","firstName":"Anna","locale":"nl-NL","timeZone":"Europe/Amsterdam","emailConsent":true},
             "properties":{"cartId":"cart-9","cartValue":89.95,"items":[{"sku":"SHOE-42"}]},
             "context":{"channel":"web","device":"mobile"}, "futureField": 1}
            """);
        Assert.Equal("cart_abandoned", e.Type);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 9, 15, 0, TimeSpan.Zero), e.OccurredAt.ToUniversalTime());
        Assert.Equal(TimeSpan.FromHours(1), e.OccurredAt.Offset);
        Assert.True(e.LinksIdentity);
        Assert.Equal("cart-9", (string?)e.Properties!["cartId"]);
        Assert.Equal("Anna", (string?)e.Traits!["firstName"]);
        Assert.Equal("mobile", (string?)e.Context!["device"]);
    }

    [Theory]
    [InlineData("""{"type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c"}""", "eventId is required")]
    [InlineData("""{"eventId":"e","type":"phase_reset","occurredAt":"2026-11-22T10:15:00Z","customerId":"c"}""", "a phase_reset needs properties.phase")]
    [InlineData("""{"eventId":"e","type":"phase_reset","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","properties":{"phase":"gone"}}""", "a phase_reset needs properties.phase")]
    [InlineData("""{"eventId":"","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c"}""", "eventId must be 1-128 characters, was 0")]
    [InlineData("""{"eventId":42,"type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c"}""", "eventId must be a string of 1-128 characters, was a number")]
    [InlineData("""{"eventId":"e","occurredAt":"2026-11-22T10:15:00Z","customerId":"c"}""", "type is required")]
    [InlineData("""{"eventId":"e","type":"9lives","occurredAt":"2026-11-22T10:15:00Z","customerId":"c"}""", "type '9lives' must match")]
    [InlineData("""{"eventId":"e","type":"page-viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c"}""", "type 'page-viewed' must match")]
    [InlineData("""{"eventId":"e","type":"page_viewed","customerId":"c"}""", "occurredAt is required")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22 10:15","customerId":"c"}""", "is not an ISO-8601 timestamp with offset")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00","customerId":"c"}""", "is not an ISO-8601 timestamp with offset")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-02-30T10:15:00Z","customerId":"c"}""", "is not an ISO-8601 timestamp")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-23T12:00:01Z","customerId":"c"}""", "more than 24 h in the future")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z"}""", "at least one of customerId and anonymousId is required")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":""}""", "customerId must be 1-128 characters")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","anonymousId":7}""", "anonymousId must be a string, was a number")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","traits":"x"}""", "traits must be a JSON object, was a string")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","properties":[]}""", "properties must be a JSON object, was an array")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","context":1}""", "context must be a JSON object, was a number")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","traits":{"emailConsent":"yes"}}""", "traits.emailConsent must be true or false, was a string")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","traits":{"timeZone":"Mars/Olympus"}}""", "traits.timeZone 'Mars/Olympus' is not a known IANA time zone")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","traits":{"email":5}}""", "traits.email must be a string, was a number")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","traits":{"locale":"nl NL"}}""", "traits.locale 'nl NL' is not a BCP 47 tag")]
    [InlineData("""["eventId"]""", "body must be a JSON object, was an array")]
    [InlineData("""null""", "body must be a JSON object, was null")]
    [InlineData("""{"eventId":"e",""", "body is not valid JSON")]
    [InlineData("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","traits":{"a":1,"a":2}}""", "body is not valid JSON: Duplicate property 'a'")]
    public void A_contract_violation_is_rejected_with_a_reason_an_operator_can_act_on(string json, string reason)
    {
        Assert.Contains(reason, Reject(json));
    }

    [Fact]
    public void The_eventId_is_kept_on_a_rejection_when_it_could_be_read()
    {
        var ex = Assert.Throws<JourneyEventRejectedException>(() => Validate("""{"eventId":"e-9","type":"X","occurredAt":"2026-11-22T10:15:00Z","customerId":"c"}"""));
        Assert.Equal("e-9", ex.EventId);
    }

    [Fact]
    public void A_body_over_256_KiB_is_rejected_and_one_at_the_limit_is_not()
    {
        string Body(int size)
        {
            var head = """{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","properties":{"blob":""" + "\"";
            const string tail = "\"}}";
            return head + new string('x', size - head.Length - tail.Length) + tail;
        }
        Assert.NotNull(Validate(Body(256 * 1024)));
        Assert.Contains("body is 262145 bytes; the limit is 262144 bytes", Reject(Body(256 * 1024 + 1)));
    }

    [Fact]
    public void Exactly_24_hours_ahead_is_accepted_as_clock_skew()
    {
        Assert.NotNull(Validate("""{"eventId":"e","type":"page_viewed","occurredAt":"2026-11-23T12:00:00Z","anonymousId":"d"}"""));
    }

    static string Event(string customerId = "\"c\"", string occurredAt = "2026-11-22T10:15:00Z", string traits = "{}", string properties = "{}") =>
        $$"""{"eventId":"e-1","type":"order_placed","occurredAt":"{{occurredAt}}","customerId":{{customerId}},"traits":{{traits}},"properties":{{properties}}}""";

    [Theory]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("2025-10-17T11:59:00Z")]   // 401 days before the worker's clock
    public void An_event_from_before_the_accepted_window_is_rejected_naming_the_setting(string occurredAt)
    {
        var message = Reject(Event("\"c\"", occurredAt));
        Assert.Contains("more than 400 days in the past", message);
        Assert.Contains("Bus:Events:MaxAge", message);
    }

    [Fact]
    public void The_window_is_configurable_and_recorded_history_accepts_any_past()
    {
        Assert.Equal(2025, Validate(Event("\"c\"", "2025-10-23T12:00:00Z")).OccurredAt.Year);   // 395 days: inside
        var narrow = new EventLimits { MaxAge = TimeSpan.FromDays(7), MaxFutureSkew = TimeSpan.FromHours(1) };
        Assert.Throws<JourneyEventRejectedException>(() => JourneyEventValidator.Validate(Encoding.UTF8.GetBytes(Event("\"c\"", "2026-11-14T12:00:00Z")), Now, narrow));
        Assert.Contains("more than 1 h in the future", Assert.Throws<JourneyEventRejectedException>(() =>
            JourneyEventValidator.Validate(Encoding.UTF8.GetBytes(Event("\"c\"", "2026-11-22T13:30:00Z")), Now, narrow)).Message);
        Assert.Equal(1, JourneyEventValidator.Validate(Encoding.UTF8.GetBytes(Event("\"c\"", "0001-01-01T00:00:00Z")), Now, EventLimits.History).OccurredAt.Year);
    }

    [Theory]
    [InlineData("\\u0000", "U+0000")]
    [InlineData("\\r", "U+000D")]
    [InlineData("\\u001b[31m", "U+001B")]
    [InlineData("\\u0007", "U+0007")]
    [InlineData("\\u202e", "U+202E")]
    [InlineData("\\u200b", "U+200B")]
    public void Ids_with_control_format_or_broken_characters_are_rejected_and_the_reason_shows_them_escaped(string escaped, string shown)
    {
        foreach (var field in new[] { "eventId", "customerId", "anonymousId" })
        {
            var json = $$"""{"eventId":"e-1","type":"page_viewed","occurredAt":"2026-11-22T10:15:00Z","customerId":"c","anonymousId":"a","{{field}}x":0}"""
                .Replace($"\"{field}\":\"", $"\"{field}\":\"ab{escaped}", StringComparison.Ordinal);
            var message = Reject(json);
            Assert.Contains(field + " must not contain control, format or unpaired surrogate characters", message);
            Assert.Contains(shown + " at 2", message);
            Assert.DoesNotContain(message, c => char.IsControl(c) || char.IsSurrogate(c) || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format);
        }
        // Printable text in any script is fine.
        Assert.Equal("klant-ü-日本-😀", Validate(Event("\"klant-ü-日本-😀\"")).CustomerId);
    }

    [Theory]
    [InlineData("customerId")]
    [InlineData("traits")]
    [InlineData("properties")]
    public void A_string_with_an_unpaired_surrogate_escape_anywhere_is_rejected(string where)
    {
        var json = where switch
        {
            "customerId" => Event("\"ab\\ud800\""),
            "traits" => Event(traits: """{"firstName":"An\ud800na"}"""),
            _ => Event(properties: """{"items":[{"name":"\udfff"}]}"""),
        };
        Assert.Contains("not valid text (an unpaired surrogate escape)", Reject(json));
    }

    [Fact]
    public void Traits_are_bounded_in_number_size_and_value()
    {
        var many = "{" + string.Join(",", Enumerable.Range(0, 101).Select(i => $"\"k{i}\":1")) + "}";
        Assert.Contains("traits has more than 100 keys", Reject(Event(traits: many)));
        var large = $$"""{"notes":"{{new string('x', 17_000)}}"}""";
        Assert.Contains("traits is 17012 bytes; the limit is 16384", Reject(Event(traits: large)));
        Assert.Contains("traits.score 1e30 is out of range", Reject(Event(traits: """{"score":1e30}""")));
        Assert.Contains("must be 1-64 printable characters", Reject(Event(traits: """{"a\u0000b":1}""")));
        Assert.Equal(100, Validate(Event(traits: "{" + string.Join(",", Enumerable.Range(0, 100).Select(i => $"\"k{i}\":1")) + "}")).Traits!.Count);
    }

    [Theory]
    [InlineData("""{"total":1e30}""", "properties.total 1e30 is out of range")]
    [InlineData("""{"cartValue":-1e16}""", "properties.cartValue -1e16 is out of range")]
    public void Amounts_beyond_any_order_are_rejected(string properties, string reason) =>
        Assert.Contains(reason, Reject(Event(properties: properties)));

    [Fact]
    public void A_large_but_real_amount_is_accepted() =>
        Assert.Equal(999_999_999.99m, (decimal)Validate(Event(properties: """{"total":999999999.99}""")).Properties!["total"]!);
}
