using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Core.Channels;
using CampaignOrchestrator.Infrastructure.Actions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;
using Polly.Timeout;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Webhooks: POSTs the action as JSON (the contract's common fields, <c>settings</c> without the secret's name) to the
/// step's url, signed: <c>X-Campaign-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t.body" under the named
/// secret&gt;</c>, with <c>Idempotency-Key: &lt;actionId&gt;</c> (the same on every attempt: a receiver drops what it saw).
/// One Polly pipeline for all webhooks: a timeout per attempt, 3 retries with jittered exponential backoff for transient
/// answers (connection refused, timeout, 408, 429, 5xx), and a circuit breaker that opens when half the calls fail, so an
/// outage pauses sending. A transient failure that outlasts the retries, or an open circuit, leaves the action pending
/// to fall due again later (nothing lost); any other 4xx fails it for good. Delivered: <c>webhook.sent</c> is published.
/// </summary>
internal sealed class WebhookChannel : IActionChannel
{
    public const string SignatureHeader = "X-Campaign-Signature";
    static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);
    static readonly TimeSpan WaitAfterRetries = TimeSpan.FromMinutes(1);

    readonly WebhookOptions _options;
    readonly TimeProvider _time;
    readonly HttpClient _http;
    readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    public WebhookChannel(IOptions<WebhookOptions> options, TimeProvider time, ResiliencePipelineProvider<string> pipelines)
    {
        _options = options.Value;
        _time = time;
        _http = new(EgressPolicy.Handler(_options.AllowPrivateNetworks)) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _pipeline = pipelines.GetPipeline<HttpResponseMessage>(ChannelPipelines.Webhook);
    }

    /// <summary>
    /// The <see cref="ChannelPipelines.Webhook"/> pipeline: 3 retries with jittered exponential backoff for transient answers
    /// (connection refused, timeout, 408, 429, 5xx), a circuit breaker that opens when half the calls fail, a timeout per attempt.
    /// </summary>
    internal static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, WebhookOptions options, CircuitBreakerStateProvider? state = null)
    {
        var transient = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>(ex => !Refused(ex))
            .Handle<TimeoutRejectedException>()
            .HandleResult(r => IsTransient(r.StatusCode));
        builder
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient, MaxRetryAttempts = 3, BackoffType = DelayBackoffType.Exponential, UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient, FailureRatio = 0.5, MinimumThroughput = 10, SamplingDuration = TimeSpan.FromSeconds(30), BreakDuration = BreakDuration,
                StateProvider = state,
            })
            .AddTimeout(options.Timeout);
    }

    static bool IsTransient(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    public bool Handles(string kind) => kind == ChannelKinds.Webhook.Name;

    public async Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken)
    {
        var url = (string?)action.Settings["url"];
        var secretName = (string?)action.Settings["secret"];
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            return ChannelResult.Failed($"webhook url '{url}' is not an http(s) address");
        if (secretName is null || !_options.Secrets.TryGetValue(secretName, out var secret) || string.IsNullOrEmpty(secret))
            return ChannelResult.Failed($"webhook secret '{secretName}' is not configured (Webhooks:Secrets:{secretName})");
        if (!_options.MaySign(secretName, uri.IdnHost))
            return ChannelResult.Failed($"webhook secret '{secretName}' may not sign for {uri.IdnHost} (Webhooks:SecretHosts:{secretName})");

        var settings = (JsonObject)action.Settings.DeepClone();
        settings.Remove("secret");
        var body = OutboundJson.Serialize(new WebhookPayload(action.ActionId, action.CampaignId, action.Step, action.CustomerId, action.AnonymousId,
            action.Phase, _time.GetUtcNow(), action.TriggerId, action.Variant, ChannelKinds.Webhook.Name, settings));
        try
        {
            using var response = await _pipeline.ExecuteAsync(async ct =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Add(SignatureHeader, Sign(secret, _time.GetUtcNow().ToUnixTimeSeconds(), body));
                request.Headers.Add("Idempotency-Key", action.ActionId);
                return await _http.SendAsync(request, ct);
            }, cancellationToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
                return ChannelResult.Ok($"HTTP {status}").Announcing(new WebhookSent(action.ActionId, action.CampaignId, action.Step, action.CustomerId,
                    action.AnonymousId, action.Phase, _time.GetUtcNow(), action.TriggerId, action.Variant, url));
            if (status is >= 300 and < 400)
                return ChannelResult.Failed($"webhook answered HTTP {status} (a redirect: not followed, the signature goes to the step's host only)");
            return IsTransient(response.StatusCode)
                ? ChannelResult.Later($"webhook answered HTTP {status} after retries", _time.GetUtcNow() + WaitAfterRetries)
                : ChannelResult.Failed($"webhook answered HTTP {status}");
        }
        catch (BrokenCircuitException)
        {
            return ChannelResult.Later("webhook receivers failing: circuit open", _time.GetUtcNow() + BreakDuration);
        }
        catch (HttpRequestException ex) when (Refused(ex))
        {
            return ChannelResult.Failed("webhook refused: " + RefusedReason(ex));
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException)
        {
            return ChannelResult.Later($"webhook unreachable after retries: {ex.Message}", _time.GetUtcNow() + WaitAfterRetries);
        }
    }

    static bool Refused(Exception ex) => RefusedReason(ex) is not null;

    static string? RefusedReason(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is EgressRefusedException refused)
                return refused.Message;
        return null;
    }

    /// <summary>The signature header's value: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;</c>.</summary>
    public static string Sign(string secret, long unixSeconds, string body)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + body));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}
