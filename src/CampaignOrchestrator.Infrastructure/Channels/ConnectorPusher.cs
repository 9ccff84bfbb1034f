using System.Text;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Posts waiting audience changes to each ad-platform connector in batches (up to 500, oldest first), signed like
/// webhooks (<c>X-Campaign-Signature</c>, HMAC-SHA256 over "t.body"), with <c>Idempotency-Key: &lt;connector&gt;:&lt;first seq&gt;-&lt;last seq&gt;</c>;
/// deletes them when the connector answered 2xx, keeps them otherwise (the next round posts them again). On PostgreSQL a
/// batch is locked while it is posted, so workers do not post the same one.
/// </summary>
internal sealed class ConnectorPusher(Database database, IOptions<RetargetingOptions> options, TimeProvider time, ILogger<ConnectorPusher> logger)
    : BackgroundService
{
    const int BatchSize = 500;
    readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = TimeSpan.FromSeconds(30) };   // the signature goes to the configured url only

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Connectors.Count == 0)
            return;
        using var timer = new PeriodicTimer(options.Value.ConnectorInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                foreach (var name in options.Value.Connectors.Keys)
                {
                    try
                    {
                        while (await PushAsync(name, stoppingToken) == BatchSize) { }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        Log.ConnectorPushFailed(logger, name, ex.GetType().Name + ": " + ex.Message);
                    }
                }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Posts one batch to <paramref name="connector"/>; returns how many changes it delivered.</summary>
    internal async Task<int> PushAsync(string connector, CancellationToken ct)
    {
        var settings = options.Value.Connectors[connector];
        await using var connection = await database.OpenAsync(ct);
        var shared = database.Dialect.SharedByWorkers;   // the rows locked for this worker until deleted
        await using var tx = shared ? await connection.BeginTransactionAsync(ct) : null;
        var rows = (await connection.QueryAsync<(long Seq, string Body)>(new CommandDefinition(
            "SELECT seq, body FROM connector_outbox WHERE connector = @connector ORDER BY seq LIMIT @limit" + database.Dialect.SkipLocked,
            new { connector, limit = BatchSize }, tx, cancellationToken: ct))).ToList();
        if (rows.Count == 0)
            return 0;
        var body = new JsonObject
        {
            ["connector"] = connector,
            ["changes"] = new JsonArray(rows.Select(r => JsonNode.Parse(r.Body)).ToArray()),
        }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookChannel.SignatureHeader, WebhookChannel.Sign(settings.Secret, time.GetUtcNow().ToUnixTimeSeconds(), body));
        request.Headers.Add("Idempotency-Key", $"{connector}:{rows[0].Seq}-{rows[^1].Seq}");
        using var response = await _http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{settings.Url} answered HTTP {(int)response.StatusCode}");
        var seqs = rows.Select(r => r.Seq).ToArray();
        if (shared)
        {
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM connector_outbox WHERE seq = ANY(@seqs)", new { seqs }, tx, cancellationToken: ct));
            await tx!.CommitAsync(ct);
        }
        else
        {
            using var turn = await database.WriteTurnAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM connector_outbox WHERE seq IN (SELECT value FROM json_each(@seqs))",
                new { seqs = database.Dialect.List(seqs) }, cancellationToken: ct));
        }
        return rows.Count;
    }
}
