using CampaignOrchestrator.Infrastructure.Channels.Email;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// One named Polly pipeline per remote dependency of the channels, registered with <c>AddResiliencePipeline</c> and injected by key
/// (<see cref="ResiliencePipelineProvider{TKey}"/>). Each is built on the host's <see cref="TimeProvider"/>, so tests drive
/// its delays and circuit breaks with a fake clock.
/// </summary>
internal static class ChannelPipelines
{
    /// <summary>Sending email (<see cref="EmailChannel.Configure"/>).</summary>
    public const string Smtp = "smtp";

    /// <summary>Webhook POSTs (<see cref="WebhookChannel.Configure"/>), typed on the response.</summary>
    public const string Webhook = "webhook";

    public static IServiceCollection AddChannelPipelines(this IServiceCollection services)
    {
        services.AddSingleton<CircuitStates>();
        services.AddResiliencePipeline(Smtp, (builder, context) =>
        {
            builder.TimeProvider = context.ServiceProvider.GetRequiredService<TimeProvider>();
            EmailChannel.Configure(builder, context.ServiceProvider.GetRequiredService<IOptions<EmailOptions>>().Value.Smtp,
                context.ServiceProvider.GetRequiredService<CircuitStates>().Smtp);
        });
        services.AddResiliencePipeline<string, HttpResponseMessage>(Webhook, (builder, context) =>
        {
            builder.TimeProvider = context.ServiceProvider.GetRequiredService<TimeProvider>();
            WebhookChannel.Configure(builder, context.ServiceProvider.GetRequiredService<IOptions<WebhookOptions>>().Value,
                context.ServiceProvider.GetRequiredService<CircuitStates>().Webhook);
        });
        return services;
    }

    /// <summary>The same pipelines outside a host (tests, tools that build a channel themselves).</summary>
    public static ResiliencePipelineProvider<string> Standalone(TimeProvider time, EmailOptions? email = null, WebhookOptions? webhooks = null) =>
        new ServiceCollection()
            .AddSingleton(time)
            .AddSingleton(Options.Create(email ?? new EmailOptions()))
            .AddSingleton(Options.Create(webhooks ?? new WebhookOptions()))
            .AddChannelPipelines()
            .BuildServiceProvider()
            .GetRequiredService<ResiliencePipelineProvider<string>>();
}

/// <summary>The circuit breakers' states of the channel pipelines, for the metrics (<see cref="BacklogMetrics"/>).</summary>
internal sealed class CircuitStates
{
    public CircuitBreakerStateProvider Smtp { get; } = new();

    public CircuitBreakerStateProvider Webhook { get; } = new();
}
