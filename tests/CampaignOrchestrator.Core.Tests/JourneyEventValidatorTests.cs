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
}
