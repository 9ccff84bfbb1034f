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
        builder.Services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = options.Timeout;
            // The bus drains its consumers while the dispatcher finishes its round: both within the one timeout.
            o.ServicesStopConcurrently = true;
        });
        builder.Services.Configure<MassTransitHostOptions>(o => o.StopTimeout = options.Timeout);
        return builder;
    }
}
