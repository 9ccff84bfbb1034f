using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Messaging;

/// <summary>Which transport carries journey events.</summary>
public enum BusTransport
{
    /// <summary>RabbitMQ: the production transport (wire contract v1).</summary>
    RabbitMq,

    /// <summary>MassTransit's in-memory transport: fast tests and the single-process demo only.</summary>
    InMemory,
}

/// <summary>The <c>Bus</c> section of appsettings.json.</summary>
public sealed class BusOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Bus";

    /// <summary><c>RabbitMq</c> (default) or <c>InMemory</c>.</summary>
    public BusTransport Transport { get; set; } = BusTransport.RabbitMq;

    /// <summary>The worker's own durable queue, bound to <c>journey-events</c> with <c>#</c>.</summary>
    public string QueueName { get; set; } = "campaign-orchestrator.journey-events";

    /// <summary>How many messages the worker handles at once; also the largest store batch it can form. Default 256.</summary>
    public int ConcurrentMessageLimit { get; set; } = 256;

    /// <summary>How often the journey write buffer retries a transient store failure (database down), with jittered exponential backoff from 0.2 s up to 60 s, before its messages go to the error queue. Default 12 (about 5 minutes); 0 turns retries off.</summary>
    public int RetryLimit { get; set; } = 12;

    /// <summary>RabbitMQ connection.</summary>
    public RabbitMqOptions RabbitMq { get; set; } = new();
}

/// <summary>The <c>Bus:RabbitMq</c> section.</summary>
public sealed class RabbitMqOptions
{
    /// <summary>Default <c>127.0.0.1</c>.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Default 5672.</summary>
    public int Port { get; set; } = 5672;

    /// <summary>Default <c>/</c>.</summary>
    public string VirtualHost { get; set; } = "/";

    /// <summary>Default <c>guest</c>.</summary>
    public string Username { get; set; } = "guest";

    /// <summary>Default <c>guest</c>; set it through <c>Bus__RabbitMq__Password</c>.</summary>
    public string Password { get; set; } = "guest";

    /// <summary>Unacknowledged messages RabbitMQ hands the worker at once. Default 512.</summary>
    public int PrefetchCount { get; set; } = 512;
}

/// <summary>Fails the start with the key that is wrong.</summary>
public sealed class BusOptionsValidator : IValidateOptions<BusOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, BusOptions o)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(o.Transport))
            failures.Add($"Bus:Transport must be RabbitMq or InMemory, was '{o.Transport}'");
        if (string.IsNullOrWhiteSpace(o.QueueName))
            failures.Add("Bus:QueueName is required");
        if (o.ConcurrentMessageLimit is < 1 or > 10_000)
            failures.Add($"Bus:ConcurrentMessageLimit must be 1-10000, was {o.ConcurrentMessageLimit}");
        if (o.RetryLimit is < 0 or > 100)
            failures.Add($"Bus:RetryLimit must be 0-100, was {o.RetryLimit}");
        if (o.Transport == BusTransport.RabbitMq)
        {
            if (string.IsNullOrWhiteSpace(o.RabbitMq.Host))
                failures.Add("Bus:RabbitMq:Host is required");
            if (o.RabbitMq.Port is < 1 or > 65535)
                failures.Add($"Bus:RabbitMq:Port must be 1-65535, was {o.RabbitMq.Port}");
            if (string.IsNullOrEmpty(o.RabbitMq.VirtualHost))
                failures.Add("Bus:RabbitMq:VirtualHost is required (use / for the default)");
            if (string.IsNullOrEmpty(o.RabbitMq.Username))
                failures.Add("Bus:RabbitMq:Username is required");
            if (o.RabbitMq.PrefetchCount is < 1 or > 65535)
                failures.Add($"Bus:RabbitMq:PrefetchCount must be 1-65535, was {o.RabbitMq.PrefetchCount}");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
