using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Core.Campaigns;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Channels.Email;
using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Extensions.Options;
using Quartz;

namespace CampaignOrchestrator.Worker.Hosting;

/// <summary>
/// Campaigns, registered by concern: the marketers' rules (loaded now, so a bad file stops the start with every error) and
/// the watcher that reloads them, the channels, the dispatcher that fires due actions, the outbound events and sweepers,
/// the counting jobs, the schedules.
/// </summary>
internal static class CampaignRegistration
{
    /// <summary>In the order their hosted services start: the rules (and their watcher), the channels, the dispatcher, the outbound
    /// events and sweepers, the counting jobs, the schedules.</summary>
    public static IHostApplicationBuilder AddCampaigns(this IHostApplicationBuilder builder) => builder
        .AddRules()
        .AddChannels()
        .AddDispatcher()
        .AddOutbound()
        .AddCounting()
        .AddSchedules();

    /// <summary>The marketers' rules, loaded now with the email templates (a bad file stops the start with every error), and the watcher that reloads them.</summary>
    static IHostApplicationBuilder AddRules(this IHostApplicationBuilder builder)
    {
        var options = builder.BindValidated(RulesOptions.SectionName, new RulesOptionsValidator());

        var path = options.Resolve() ?? throw new OptionsValidationException(RulesOptions.SectionName, typeof(RulesOptions),
            [$"Rules:Path: no rules file or folder at '{options.Path}' (looked in {Directory.GetCurrentDirectory()} and {AppContext.BaseDirectory})"]);
        // The email templates first: every template a rule names must exist in every locale the installation sends.
        var email = builder.BindValidated(EmailOptions.SectionName, new EmailOptionsValidator());
        EmailTemplates templates;
        try
        {
            templates = EmailTemplates.Load(email.ResolveTemplates()!, email.DefaultLocale);
        }
        catch (EmailTemplatesRejectedException ex)
        {
            throw new OptionsValidationException(EmailOptions.SectionName, typeof(EmailOptions), ex.Errors.Select(e => $"Email:Templates: {e}"));
        }
        builder.Services.AddSingleton(templates);
        LoadedRules loaded;
        try
        {
            loaded = RulesFiles.Load(path, templates.Catalog);
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
            sp.GetRequiredService<TimeProvider>().GetUtcNow(), path, loaded.Files, loaded.Sources));
        // After the schema migration (registered before), before the bus: the version is recorded
        // and applied before the first event is judged; the dispatcher stops before the store.
        builder.Services.AddSingleton<RulesHistory>();
        builder.Services.AddSingleton<RulesWatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RulesWatcher>());
        return builder;
    }

    /// <summary>The channels, the first that handles a kind delivering it, and the immediate delivery of banners due at once.</summary>
    static IHostApplicationBuilder AddChannels(this IHostApplicationBuilder builder)
    {
        // Channels, the first that handles a kind delivers it: emails go out over SMTP, banners become placements the
        // webshop reads, offers coupon codes, retargeting audience memberships, webhooks signed POSTs (Channels/).
        builder.BindValidated(PlacementOptions.SectionName, new PlacementOptionsValidator());
        builder.Services.AddSingleton<PlacementQueries>();
        builder.Services.AddChannelPipelines();
        builder.Services.AddSingleton<EmailChannel>();
        builder.Services.AddSingleton<UnsubscribeLinks>();
        builder.Services.AddSingleton<IActionChannel>(sp => sp.GetRequiredService<EmailChannel>());
        builder.Services.AddSingleton<IActionChannel, BannerChannel>();
        builder.Services.AddSingleton<IActionChannel, OfferChannel>();
        builder.BindValidated(WebhookOptions.SectionName, new WebhookOptionsValidator());
        builder.BindValidated(RetargetingOptions.SectionName, new RetargetingOptionsValidator());
        builder.Services.AddSingleton<IActionChannel, RetargetingChannel>();
        builder.Services.AddSingleton<IActionChannel, WebhookChannel>();
        // Steps due at once on a channel that only writes rows (banners) are delivered in the journey transaction that plans them.
        builder.Services.AddSingleton<ImmediateDelivery>();
        return builder;
    }

    /// <summary>The actions' store and the dispatcher that fires due actions (stopped before the store).</summary>
    static IHostApplicationBuilder AddDispatcher(this IHostApplicationBuilder builder)
    {
        builder.BindValidated(Infrastructure.Actions.SchedulingOptions.SectionName, new SchedulingOptionsValidator());
        builder.Services.AddSingleton<ActionMetrics>();
        builder.Services.AddSingleton<CampaignFailures>();
        builder.Services.AddSingleton(sp => new ActionStore(sp.GetRequiredService<Database>(), sp.GetRequiredService<ILogger<ActionStore>>()));
        // Planning: the journey transaction and the scans start campaigns through it.
        builder.Services.AddSingleton(sp => new CampaignScheduler(sp.GetRequiredService<Database>(), sp.GetRequiredService<ActionStore>(),
            sp.GetRequiredService<ILogger<CampaignScheduler>>(), sp.GetRequiredService<CampaignFailures>()));
        builder.Services.AddSingleton<ActionDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ActionDispatcher>());
        return builder;
    }

    /// <summary>Outbound events published after their commit, the placement and audience sweepers, the ad platform connectors.</summary>
    static IHostApplicationBuilder AddOutbound(this IHostApplicationBuilder builder)
    {
        // Outbound events (campaign-actions), written with what they tell and published after the commit.
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddHostedService<OutboxPublisher>();
        builder.Services.AddHostedService<PlacementSweeper>();
        builder.Services.AddHostedService<AudienceSweeper>();
        builder.Services.AddHostedService<ConnectorPusher>();
        return builder;
    }

    /// <summary>The funnel's and the results' counters, and the backlog gauges.</summary>
    static IHostApplicationBuilder AddCounting(this IHostApplicationBuilder builder)
    {
        // The funnel's counters, kept by an incremental job (GET /api/funnel reads them).
        builder.BindValidated(FunnelOptions.SectionName, new FunnelOptionsValidator());
        builder.Services.AddSingleton<CampaignResults>();
        builder.Services.AddSingleton<FunnelCounters>();
        builder.Services.AddHostedService<FunnelJob>();
        builder.Services.AddSingleton<BacklogMetrics>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BacklogMetrics>());
        return builder;
    }

    /// <summary>The schedules and inactivity scans on Quartz (clustered on PostgreSQL).</summary>
    static IHostApplicationBuilder AddSchedules(this IHostApplicationBuilder builder)
    {
        // Quartz runs what is shaped like a schedule: the inactivity scan and each cron campaign, in a
        // persistent store (clustered on PostgreSQL: one node runs each firing). Due actions are not
        // Quartz triggers; the dispatcher claims them (docs/decisions/0003-scheduled-actions.md).
        builder.Services.AddSingleton<TriggerScans>();
        var storage = builder.Configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
        var scheduling = builder.Configuration.GetSection(Infrastructure.Actions.SchedulingOptions.SectionName).Get<Infrastructure.Actions.SchedulingOptions>() ?? new Infrastructure.Actions.SchedulingOptions();
        builder.Services.AddQuartz(q =>
        {
            q.ConfigureScheduler(o => o.InstanceName = "campaign-orchestrator");
            q.UseDefaultThreadPool(2);
            q.UsePersistentStore(store =>
            {
                if (storage.Provider == StorageProvider.Postgres)
                {
                    store.UsePostgres(storage.ConnectionString);
                    store.UseClustering(c =>
                    {
                        c.CheckinInterval = scheduling.ClusterCheckIn;
                        c.CheckinMisfireThreshold = scheduling.ClusterFailoverAfter;
                    });
                }
                else
                    store.UseSqlite(QuartzSqlite(storage.ConnectionString));
                store.ProvisionSchema();
            });
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        builder.Services.AddHostedService<CampaignJobs>();
        return builder;
    }

    /// <summary>Quartz keeps its tables in a file beside the journeys (<c>x.db</c> → <c>x.quartz.db</c>): its own
    /// connections then never wait on the journey writer's lock.</summary>
    static string QuartzSqlite(string connectionString)
    {
        var csb = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString);
        var file = Path.GetFullPath(csb.DataSource);
        csb.DataSource = Path.Combine(Path.GetDirectoryName(file)!, Path.GetFileNameWithoutExtension(file) + ".quartz.db");
        return csb.ToString();
    }

    sealed class RulesOptionsValidator : IValidateOptions<RulesOptions>
    {
        public ValidateOptionsResult Validate(string? name, RulesOptions options) =>
            string.IsNullOrWhiteSpace(options.Path)
                ? ValidateOptionsResult.Fail("Rules:Path must name a rules .yaml file or a folder of them")
                : ValidateOptionsResult.Success;
    }
}
