using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Contracts.Outbound;
using CampaignOrchestrator.Core.Channels;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Timeout;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>
/// Email over SMTP (MailKit): renders the step's template in the customer's locale with the customer, the trigger event
/// (its properties: the cart and its items) and the action, and sends it through a pool of connections. The Message-ID
/// is the actionId's (<c>&lt;actionId@from-domain&gt;</c>): the one window for a duplicate, a crash between the server's
/// accept and our commit, sends the same Message-ID again. One Polly pipeline: a timeout per attempt, 3 retries with
/// jittered backoff for passing trouble (refused or dropped connection, timeout, a 4xx reply), a circuit breaker that
/// opens when half the sends fail, so an SMTP outage pauses sending: then, or when the retries did not help, the action
/// waits pending and falls due again later (nothing lost). A 5xx reply fails it for good. Delivered: <c>email.sent</c>;
/// failed for good: <c>email.failed</c>.
/// </summary>
internal sealed class EmailChannel : IActionChannel, IAsyncDisposable
{

    readonly Database _database;
    readonly EmailTemplates _templates;
    readonly TimeProvider _time;
    readonly MailboxAddress _from;
    readonly SmtpPool _pool;
    readonly UnsubscribeLinks _links;
    readonly SmtpOptions _smtp;
    readonly ResiliencePipeline _pipeline;

    readonly ILogger _logger;

    public EmailChannel(Database database, EmailTemplates templates, IOptions<EmailOptions> options, TimeProvider time, ResiliencePipelineProvider<string> pipelines,
        ILogger<EmailChannel>? logger = null)
    {
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _database = database;
        _templates = templates;
        _time = time;
        _from = MailboxAddress.Parse(options.Value.From);
        _pool = new SmtpPool(options.Value.Smtp);
        _links = new UnsubscribeLinks(database, options, time);
        _smtp = options.Value.Smtp;
        _pipeline = pipelines.GetPipeline(ChannelPipelines.Smtp);
    }

    /// <summary>
    /// The <see cref="ChannelPipelines.Smtp"/> pipeline: 3 jittered retries for passing trouble (refused or dropped
    /// connection, timeout, a 4xx reply), a circuit breaker that opens when half the sends fail, a timeout per attempt.
    /// </summary>
    /// <summary>SMTP connections sending now (the pool's size is <c>Email:Smtp:PoolSize</c>).</summary>
    internal int ConnectionsInUse => _pool.InUse;

    internal static void Configure(ResiliencePipelineBuilder builder, SmtpOptions smtp, CircuitBreakerStateProvider? state = null)
    {
        var transient = new PredicateBuilder()
            .Handle<SmtpCommandException>(e => (int)e.StatusCode is >= 400 and < 500)
            .Handle<SmtpProtocolException>().Handle<IOException>().Handle<SocketException>()
            .Handle<ServiceNotConnectedException>().Handle<TimeoutRejectedException>();
        builder
            .AddRetry(new Polly.Retry.RetryStrategyOptions
            {
                ShouldHandle = transient, MaxRetryAttempts = 3, BackoffType = DelayBackoffType.Exponential, UseJitter = true, Delay = TimeSpan.FromMilliseconds(200),
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = transient, FailureRatio = 0.5, MinimumThroughput = 10, SamplingDuration = TimeSpan.FromSeconds(30), BreakDuration = smtp.PauseOnOutage,
                StateProvider = state,
            })
            .AddTimeout(smtp.Timeout);
    }

    public bool Handles(string kind) => kind == ChannelKinds.Email.Name;

    public Task<ChannelResult> DeliverAsync(DueAction action, CancellationToken cancellationToken) => SendAsync(action, null, cancellationToken);

    /// <summary>Renders and sends the step's template; <paramref name="extra"/> adds to what the template sees (an offer's code).</summary>
    public async Task<ChannelResult> SendAsync(DueAction action, IReadOnlyDictionary<string, object?>? extra, CancellationToken cancellationToken)
    {
        var template = (string?)action.Settings["template"];
        if (string.IsNullOrEmpty(template))
            return Failure(action, "email without template");
        var (traits, trigger) = await ReadAsync(action, readTraits: action.Traits is null, cancellationToken);
        if (action.Traits is { } known)
            traits = new JsonObject(known.Select(t => KeyValuePair.Create(t.Key, t.Value?.DeepClone())));
        var to = traits?["email"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string?)v : null;
        if (to is null || !MailboxAddress.TryParse(to, out var recipient))
            return Failure(action, "no valid email address in the customer's traits");

        // The suppression list: a hard-bounced address gets nothing, an unsubscribed one no marketing.
        switch (await Suppressions.ReasonAsync(_database, recipient.Address, cancellationToken))
        {
            case Suppressions.HardBounce:
                return ChannelResult.Suppress("suppressed: the address hard-bounced");
            case Suppressions.Unsubscribed when !action.Transactional:
                return ChannelResult.Suppress("suppressed: the address unsubscribed");
            case Suppressions.Erased when !action.Transactional:
                return ChannelResult.Suppress("suppressed: the customer with this address was erased");
        }
        var model = Model(action, traits, trigger);
        foreach (var (key, value) in extra ?? new Dictionary<string, object?>())
            model[key] = value;
        var unsubscribe = action.Transactional ? null
            : await _links.CreateAsync(action.ProfileId, recipient.Address, action.ActionId, traits?["locale"]?.ToString(), cancellationToken);
        model["unsubscribeUrl"] = unsubscribe;
        var rendered = await _templates.RenderAsync(template, traits?["locale"]?.ToString(), model);
        if (rendered is null)
            return Failure(action, $"no email template '{template}'");
        if (System.Text.Encoding.UTF8.GetByteCount(rendered.Html) + System.Text.Encoding.UTF8.GetByteCount(rendered.Text) is var size and > MaxRenderedBytes)
            return Failure(action, $"the rendered email is {size} bytes; the limit is {MaxRenderedBytes} (template '{template}')");
        using var message = new MimeMessage { Subject = rendered.Subject, MessageId = MessageId(action) };
        // A copy per message: an address in a message's list subscribes that list to its changes, so one shared
        // instance kept every message ever sent alive (measured: 19 KB an email until the process ended).
        // The step's own from and replyTo (validated with the rules), else Email:From.
        if (!TryAddress(action, "from", out var from) || !TryAddress(action, "replyTo", out var replyTo))
            return Failure(action, $"the step's from or replyTo is not an address MailKit accepts ('{action.Settings["from"]}', '{action.Settings["replyTo"]}')");
        message.From.Add(from ?? new MailboxAddress(_from.Name, _from.Address));
        if (replyTo is not null)
            message.ReplyTo.Add(replyTo);
        message.To.Add(recipient);
        message.Headers.Add("X-Campaign-Id", action.CampaignId);
        message.Headers.Add("X-Campaign-Action-Id", action.ActionId);
        if (unsubscribe is not null)
        {
            // RFC 8058: one click in the mail program unsubscribes (a POST to the link), no web page needed.
            message.Headers.Add("List-Unsubscribe", $"<{unsubscribe}>");
            message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        }
        message.Body = new BodyBuilder { HtmlBody = rendered.Html, TextBody = rendered.Text }.ToMessageBody();
        try
        {
            await _pipeline.ExecuteAsync(async ct => await _pool.SendAsync(message, ct), cancellationToken);
            return ChannelResult.Ok($"sent {template}/{rendered.Locale} as <{message.MessageId}>").Announcing(new EmailSent(action.ActionId, action.CampaignId,
                action.Step, action.CustomerId, action.AnonymousId, action.Phase, _time.GetUtcNow(), action.TriggerId, action.Variant, template, message.MessageId));
        }
        catch (SmtpCommandException ex) when ((int)ex.StatusCode >= 500)
        {
            // The recipient refused for good (a hard bounce): no more mail to that address.
            if (ex.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
            {
                Log.HardBounce(_logger, action.ActionId, action.CustomerId, (int)ex.StatusCode);
                await Suppressions.AddAsync(_database, recipient.Address, Suppressions.HardBounce, $"{(int)ex.StatusCode} {AddressScrubber.Scrub(ex.Message)}",
                    _time.GetUtcNow(), cancellationToken);
            }
            return Failure(action, $"SMTP refused ({(int)ex.StatusCode}): {ex.Message}");
        }
        catch (BrokenCircuitException)
        {
            return ChannelResult.Later("SMTP failing: circuit open", _time.GetUtcNow() + _smtp.PauseOnOutage);
        }
        catch (Exception ex) when (ex is SmtpCommandException or SmtpProtocolException or IOException or SocketException or ServiceNotConnectedException
            or TimeoutRejectedException)
        {
            return ChannelResult.Later($"SMTP unavailable after retries: {ex.GetType().Name}: {AddressScrubber.Scrub(ex.Message)}", _time.GetUtcNow() + _smtp.RetryAfter);
        }
    }

    internal string MessageId(DueAction action) => $"{action.ActionId}@{_from.Domain}";

    /// <summary>What a template sees: <c>customer</c> (id, firstName, lastName, email, traits), <c>event</c> (type, occurredAt,
    /// properties, context), <c>cart</c> (the event's properties), <c>action</c> (id, campaignId, step, settings).</summary>
    static Dictionary<string, object?> Model(DueAction action, JsonObject? traits, (string Type, DateTimeOffset OccurredAt, JsonObject? Properties, JsonObject? Context)? trigger)
    {
        var traitValues = Plain(traits) as Dictionary<string, object?> ?? [];
        var properties = Plain(trigger?.Properties);
        return new Dictionary<string, object?>
        {
            ["customer"] = new Dictionary<string, object?>
            {
                ["id"] = action.CustomerId ?? action.AnonymousId, ["firstName"] = traitValues.GetValueOrDefault("firstName"),
                ["lastName"] = traitValues.GetValueOrDefault("lastName"), ["email"] = traitValues.GetValueOrDefault("email"), ["traits"] = traitValues,
            },
            ["event"] = trigger is { } t
                ? new Dictionary<string, object?> { ["type"] = t.Type, ["occurredAt"] = t.OccurredAt, ["properties"] = properties, ["context"] = Plain(t.Context) }
                : null,
            ["cart"] = properties,
            ["action"] = new Dictionary<string, object?>
            {
                ["id"] = action.ActionId, ["campaignId"] = action.CampaignId, ["step"] = action.Step, ["settings"] = Plain(action.Settings),
            },
        };
    }

    /// <summary>Most items of a list a template sees (cart.items, event.properties.items, ...).</summary>
    public const int MaxListItems = 100;

    /// <summary>Largest rendered mail (HTML and text together); a larger one fails with the reason instead of going out.</summary>
    public const int MaxRenderedBytes = 1024 * 1024;

    /// <summary>JSON as dictionaries, lists and values (what Liquid reads).</summary>
    static object? Plain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => Plain(p.Value), StringComparer.Ordinal),
        // A list holds at most MaxListItems for a template: a 100,000-item cart renders 100 lines, not a 2.4 MB mail.
        JsonArray a => a.Take(MaxListItems).Select(Plain).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            // A number beyond decimal (1e30) renders as a double, never fails the mail.
            JsonValueKind.Number => v.TryGetValue<decimal>(out var d) ? d : v.TryGetValue<double>(out var f) && double.IsFinite(f) ? f : v.ToJsonString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        },
        _ => null,
    };

    /// <summary>The customer's traits (when <paramref name="readTraits"/>) and the triggering event, from the store unless the dispatcher read them.</summary>
    async Task<(JsonObject? Traits, (string, DateTimeOffset, JsonObject?, JsonObject?)? Trigger)> ReadAsync(DueAction action, bool readTraits, CancellationToken ct)
    {
        string? traits = null;
        var row = action.Trigger;
        if (readTraits || !action.TriggerRead)
        {
            await using var connection = await _database.OpenAsync(ct);
            if (readTraits)
                traits = await JourneyReads.TraitsAsync(connection, null, action.ProfileId, ct);
            if (!action.TriggerRead)
                row = await JourneyReads.EventAsync<TriggerEvent>(connection, null, action.TriggerId, ct);
        }
        return (traits is null ? null : JsonNode.Parse(traits) as JsonObject,
            row is null ? null : (row.Type, row.OccurredAt, Parse(row.Properties), Parse(row.Context)));
        static JsonObject? Parse(string? json) => json is null ? null : JsonNode.Parse(json) as JsonObject;
    }

    /// <summary>Failed for good, announced as <c>email.failed</c>.</summary>
    /// <summary>The step's address setting <paramref name="key"/>: null when not set, false when it does not parse.</summary>
    static bool TryAddress(DueAction action, string key, out MailboxAddress? address)
    {
        address = null;
        if (action.Settings[key] is not JsonValue value || !value.TryGetValue<string>(out var text) || string.IsNullOrWhiteSpace(text))
            return true;
        return MailboxAddress.TryParse(text.Trim(), out address);
    }

    /// <summary>Failed for good, announced as <c>email.failed</c>; any address in the reason (a server's reply quotes it) is taken out.</summary>
    public ChannelResult Failure(DueAction action, string reason) => Failed(action, AddressScrubber.Scrub(reason));

    ChannelResult Failed(DueAction action, string reason) =>
        ChannelResult.Failed(reason).Announcing(new EmailFailed(action.ActionId, action.CampaignId, action.Step, action.CustomerId, action.AnonymousId,
            action.Phase, _time.GetUtcNow(), action.TriggerId, action.Variant, (string?)action.Settings["template"], reason));

    public ValueTask DisposeAsync() => _pool.DisposeAsync();
}
