using MassTransit;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Hosting;

/// <summary>
/// The <c>Shutdown</c> section. On SIGTERM the worker stops taking messages and due actions; what it holds is finished
/// or handed back within <see cref="Timeout"/>: consumers in progress complete (their messages are acked only after their
/// effects committed; one cut off is not acked and comes again), the dispatcher's sends in flight end and are recorded,
/// those not started go back to pending. After the timeout what is still running is given up (docs/reliability.md).
/// </summary>
public sealed class ShutdownOptions
{
    public const string SectionName = "Shutdown";

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options) =>
        options.Timeout < TimeSpan.FromSeconds(1) || options.Timeout > TimeSpan.FromMinutes(10)
            ? ValidateOptionsResult.Fail($"Shutdown:Timeout must be between 00:00:01 and 00:10:00 (got {options.Timeout})")
            : ValidateOptionsResult.Success;
}

internal static class ShutdownRegistration
{
    public static IHostApplicationBuilder AddShutdown(this IHostApplicationBuilder builder)
    {
        var options = builder.BindValidated(ShutdownOptions.SectionName, new ShutdownOptionsValidator());
        // The services stop one after the other, the last registered first: the bus (its consumers finish, their events
        // committed by the journey write buffer), then the dispatcher (its round), the journey write buffer last. The bus
        // has half of the timeout; its consumers' cancellation comes at a third, so a cut-off message is not acked and
        // comes again (never to the error queue).
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.Timeout);
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.ConsumerStopTimeout = options.Timeout / 3;
            o.StopTimeout = options.Timeout / 2;
        });
        return builder;
    }
}
