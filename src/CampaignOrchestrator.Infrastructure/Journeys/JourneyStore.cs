using System.Data.Common;
using CampaignOrchestrator.Core.Events;
using CampaignOrchestrator.Infrastructure.Actions;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Channels;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Extensions.Logging;

namespace CampaignOrchestrator.Infrastructure.Journeys;

/// <summary>
/// The journey transaction: a batch of events is one transaction on SQLite or PostgreSQL, run as named stages, each owned
/// by its folder (see <see cref="ApplyAsync"/>). On PostgreSQL the stages' reads take two round trips and their writes one
/// command. The journeys themselves are read through <see cref="JourneyReader"/>.
/// </summary>
internal sealed class JourneyStore(Database database, JourneyRecords records, ActionStore actions, CampaignScheduler campaigns, JourneyReader reader,
    ActiveRules rules, TimeProvider time, ImmediateDelivery? immediate = null)
{
    readonly JourneyRecords _records = records;
    readonly ActionStore _actions = actions;
    readonly CampaignScheduler _campaigns = campaigns;
    readonly JourneyReader _reader = reader;

    /// <summary>A store with its parts made over <paramref name="database"/> (the preview's runs, tests, benches; the worker's are injected).</summary>
    public static JourneyStore Create(Database database, ActiveRules rules, TimeProvider time, ILogger<JourneyStore> logger,
        ImmediateDelivery? immediate = null, CampaignFailures? failures = null) =>
        new(database, new JourneyRecords(database, logger), new ActionStore(database, logger),
            new CampaignScheduler(database, new ActionStore(database, logger), logger, failures), new JourneyReader(database), rules, time, immediate);

    /// <summary>Stores a batch of accepted events in one transaction; nothing is written if it throws.</summary>
    public async Task<BatchResult> ApplyAsync(IReadOnlyList<AcceptedEvent> events, CancellationToken cancellationToken)
    {
        var stages = StageTimes.Start(events);
        using var turn = await database.WriteTurnAsync(cancellationToken);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var delivered = ImmediateDelivery.Taken.None;
        try
        {
            // Every statement of the transaction finds its rows by key (PostgreSQL: by index, whatever the statistics say).
            await database.Dialect.KeyLookupsOnlyAsync(connection, tx, cancellationToken);
            var batch = await ApplyAsync(connection, tx, events, stages, d => delivered = d, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            _records.RememberAsCommitted(batch);
            stages?.Record(batch);
            immediate?.Committed(delivered);
            return batch.Result;
        }
        catch
        {
            _records.Forget();
            ImmediateDelivery.Abandoned(delivered);
            throw;
        }
    }

    async Task<JourneyBatch> ApplyAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<AcceptedEvent> events, StageTimes? stages,
        Action<ImmediateDelivery.Taken> delivering, CancellationToken ct)
    {
        // One rules version for the whole batch, even if a reload happens meanwhile.
        var active = rules.Current;

        // 1. Identity and dedup (Storage): lock the profiles, link devices, insert the timeline (an eventId seen before is
        //    dropped), read the profiles.
        var batch = await _records.IdentifyAsync(connection, tx, events, time.GetUtcNow(), ct);
        if (batch.Fresh.Count == 0)
            return batch;

        // 2. The journey engine (Core, through Storage): devices merged, traits and phases, late events replayed.
        await _records.ApplyJourneyAsync(connection, tx, batch, active.PhaseModel, ct);

        // 3. Campaign triggers (Campaigns): which instances the fresh events and phases start, and which they end.
        stages?.Mark(StageTimes.Judging);
        var planned = await _campaigns.PlanAsync(connection, tx, active, batch, ct);
        if (stages is not null)
            planned = stages.Trace(planned);
        stages?.Mark(StageTimes.Scheduling);

        // 3b. Steps due now on a channel that only writes rows and events (banners) are delivered here, in this transaction (Actions).
        var taken = ImmediateDelivery.Taken.None;
        if (immediate is not null)
        {
            (planned, taken) = immediate.Take(planned, active.Rules.Defaults, batch);
            delivering(taken);
        }

        // 4. The writes, in this order (PostgreSQL: one command): the journey, then what merged devices bring along,
        //    then the actions appended (they see the merged devices), then offers redeemed and consent given back.
        var final = new SqlBatch();
        await _records.WriteAsync(final, connection, tx, batch, ct);
        await _actions.WriteMergesAsync(final, connection, tx, batch.Merges, ct);
        await ChannelMerges.WriteAsync(final, connection, tx, database.Dialect, batch.Merges, ct);
        await _actions.WriteAsync(final, connection, tx, planned, batch.Now, ct);
        await OfferChannel.WriteRedemptionsAsync(final, connection, tx, database.Dialect, batch.Fresh, ct);
        Channels.Email.Suppressions.AppendConsentGivenBack(final, batch);
        await final.ExecuteAsync(connection, tx, ct);
        if (immediate is not null)
            await immediate.WriteAsync(connection, tx, _actions, database.Dialect, taken, ct);
        stages?.Mark(StageTimes.Committing);
        return batch;
    }

    /// <summary>The journey of a customer (<see cref="JourneyReader.GetAsync"/>).</summary>
    public Task<JourneyView?> GetAsync(string id, int timelineLimit, CancellationToken cancellationToken) => _reader.GetAsync(id, timelineLimit, cancellationToken);

    /// <summary>The profiles with this email hash (<see cref="JourneyReader.FindByEmailAsync"/>).</summary>
    public Task<IReadOnlyList<CustomerMatch>> FindByEmailAsync(string emailSha256, int limit, CancellationToken ct) => _reader.FindByEmailAsync(emailSha256, limit, ct);

    /// <summary>Answers whether the store can be reached (for <c>/health</c>).</summary>
    public Task PingAsync(CancellationToken cancellationToken) => _reader.PingAsync(cancellationToken);
}
