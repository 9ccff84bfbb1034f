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
}
