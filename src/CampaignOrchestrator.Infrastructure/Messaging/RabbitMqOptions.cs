namespace CampaignOrchestrator.Infrastructure.Messaging;

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

    /// <summary>
    /// The nodes of a RabbitMQ cluster (<c>host:port</c>, port 5672 when left out): the worker connects to the first that
    /// answers and, when its node goes, to another. Empty: <see cref="Host"/> and <see cref="Port"/> alone.
    /// </summary>
    public List<string> Hosts { get; set; } = [];

    /// <summary><c>classic</c> (default) or <c>quorum</c>: RabbitMQ's replicated queue type, for the worker's queue and its error and skipped queues.</summary>
    public string QueueType { get; set; } = "classic";

    /// <summary>Whether the queues are quorum queues.</summary>
    public bool Quorum => string.Equals(QueueType, "quorum", StringComparison.OrdinalIgnoreCase);

    /// <summary>The nodes to try, in order.</summary>
    public IReadOnlyList<(string Host, int Port)> Nodes() => Hosts.Count == 0
        ? [(Host, Port)]
        : Hosts.Select(h => h.LastIndexOf(':') is var i and > 0 && int.TryParse(h[(i + 1)..], out var port) ? (h[..i], port) : (h, 5672)).ToList();

    /// <summary>A connection for the worker's own AMQP clients (the outbox, the error queue), to the first node that answers.</summary>
    public Task<RabbitMQ.Client.IConnection> ConnectAsync(string clientName, CancellationToken ct)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory
        {
            VirtualHost = VirtualHost, UserName = Username, Password = Password, ClientProvidedName = clientName,
        };
        return factory.CreateConnectionAsync(Nodes().Select(n => new RabbitMQ.Client.AmqpTcpEndpoint(n.Host, n.Port)).ToList(), ct);
    }
}
