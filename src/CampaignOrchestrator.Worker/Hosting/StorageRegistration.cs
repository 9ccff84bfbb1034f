using CampaignOrchestrator.Infrastructure.Journeys;
using CampaignOrchestrator.Infrastructure.Storage;

namespace CampaignOrchestrator.Worker.Hosting;

/// <summary>Where journeys are kept: the store, its schema, and the write buffer.</summary>
internal static class StorageRegistration
{
    public static IHostApplicationBuilder AddJourneyStore(this IHostApplicationBuilder builder)
    {
        builder.BindValidated(StorageOptions.SectionName, new StorageOptionsValidator());
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<Database>();
        builder.Services.AddSingleton<SchemaMigrator>();
        builder.Services.AddSingleton<JourneyReader>();
        // The journey transaction's parts, each its folder's (the records under the store's log category, as before).
        builder.Services.AddSingleton(sp => new JourneyRecords(sp.GetRequiredService<Database>(), sp.GetRequiredService<ILogger<JourneyStore>>()));
        builder.Services.AddSingleton<JourneyStore>();
        // Registered before the bus, so the schema exists before the first message is consumed,
        // and the buffer stops only after the bus has stopped consuming.
        builder.Services.AddHostedService<SchemaMigrationService>();
        builder.Services.AddSingleton<JourneyWriteBuffer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JourneyWriteBuffer>());
        builder.Services.AddSingleton<IJourneyWriter>(sp => sp.GetRequiredService<JourneyWriteBuffer>());
        return builder;
    }

    sealed class SchemaMigrationService(SchemaMigrator migrator) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => migrator.MigrateAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
