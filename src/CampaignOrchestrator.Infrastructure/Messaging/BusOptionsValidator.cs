using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Messaging;

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
        if (o.Events.MaxAge < TimeSpan.FromHours(1))
            failures.Add($"Bus:Events:MaxAge must be at least 01:00:00, was {o.Events.MaxAge}");
        if (o.Events.MaxFutureSkew < TimeSpan.Zero || o.Events.MaxFutureSkew > TimeSpan.FromDays(7))
            failures.Add($"Bus:Events:MaxFutureSkew must be 0 to 7 days, was {o.Events.MaxFutureSkew}");
        if (o.Events.MaxTraits is < 1 or > Core.Events.EventLimits.MaxProfileTraits)
            failures.Add($"Bus:Events:MaxTraits must be 1-{Core.Events.EventLimits.MaxProfileTraits}, was {o.Events.MaxTraits}");
        if (o.Events.MaxTraitsBytes is < 256 or > 256 * 1024)
            failures.Add($"Bus:Events:MaxTraitsBytes must be 256-262144, was {o.Events.MaxTraitsBytes}");
        if (o.Transport == BusTransport.RabbitMq)
        {
            if (string.IsNullOrWhiteSpace(o.RabbitMq.Host))
                failures.Add("Bus:RabbitMq:Host is required");
            if (!string.Equals(o.RabbitMq.QueueType, "classic", StringComparison.OrdinalIgnoreCase) && !o.RabbitMq.Quorum)
                failures.Add($"Bus:RabbitMq:QueueType must be classic or quorum, was '{o.RabbitMq.QueueType}'");
            foreach (var host in o.RabbitMq.Hosts)
                if (string.IsNullOrWhiteSpace(host) || host.Contains('/') || (host.LastIndexOf(':') is var i and > 0 && !(int.TryParse(host[(i + 1)..], out var p) && p is >= 1 and <= 65535)))
                    failures.Add($"Bus:RabbitMq:Hosts: '{host}' is not host or host:port");
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
