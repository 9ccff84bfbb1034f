using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Rules;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Hosting;

/// <summary>
/// Campaigns: the marketers' rules (loaded now, so a bad file stops the start with every error),
/// the watcher that reloads them, the dispatcher that fires due actions, and the channels.
/// </summary>
internal static class CampaignRegistration
{
    public static IHostApplicationBuilder AddCampaigns(this IHostApplicationBuilder builder)
    {
        var options = builder.BindValidated(RulesOptions.SectionName, new RulesOptionsValidator());
        builder.BindValidated(SchedulingOptions.SectionName, new SchedulingOptionsValidator());

        var path = options.Resolve() ?? throw new OptionsValidationException(RulesOptions.SectionName, typeof(RulesOptions),
            [$"Rules:Path: no rules file or folder at '{options.Path}' (looked in {Directory.GetCurrentDirectory()} and {AppContext.BaseDirectory})"]);
        LoadedRules loaded;
        try
        {
            loaded = RulesFiles.Load(path);
        }
        catch (RulesRejectedException ex)
        {
            throw new OptionsValidationException(RulesOptions.SectionName, typeof(RulesOptions), ex.Errors.Select(e => $"Rules:Path: {e}"));
        }
        catch (FileNotFoundException ex)
        {
            throw new OptionsValidationException(RulesOptions.SectionName, typeof(RulesOptions), [$"Rules:Path: {ex.Message}"]);
        }
        builder.Services.AddSingleton(sp => new ActiveRules(new CompiledRules(loaded.Rules, loaded.Version),
            sp.GetRequiredService<TimeProvider>().GetUtcNow(), path, loaded.Files));
        builder.Services.AddSingleton<ActionMetrics>();
        builder.Services.AddSingleton<CampaignQueries>();

        // Channels: until the delivery channels exist, every kind is recorded (and logged) only.
        builder.Services.AddSingleton<RecordingChannel>();
        builder.Services.AddSingleton<IActionChannel>(sp => sp.GetRequiredService<RecordingChannel>());

        // After the schema migration (registered before), before the bus: the version is recorded
        // and applied before the first event is judged; the dispatcher stops before the store.
        builder.Services.AddSingleton<RulesWatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RulesWatcher>());
        builder.Services.AddSingleton<ActionDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ActionDispatcher>());
        return builder;
    }

    sealed class RulesOptionsValidator : IValidateOptions<RulesOptions>
    {
        public ValidateOptionsResult Validate(string? name, RulesOptions options) =>
            string.IsNullOrWhiteSpace(options.Path)
                ? ValidateOptionsResult.Fail("Rules:Path must name a rules .yaml file or a folder of them")
                : ValidateOptionsResult.Success;
    }
}
