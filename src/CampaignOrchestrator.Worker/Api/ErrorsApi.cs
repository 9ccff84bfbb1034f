using CampaignOrchestrator.Infrastructure.Messaging;
using CampaignOrchestrator.Infrastructure.Storage;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Api;

/// <summary><c>/api/errors</c>: the rejected messages in the error queue, replaying and deleting them (admin, audited).</summary>
internal static class ErrorsApi
{
    /// <summary><c>GET /api/errors?limit=</c>.</summary>
    public static async Task<IResult> ListAsync(int? limit, ErrorQueue errors, IOptions<BusOptions> bus, CancellationToken ct)
    {
        var (page, badLimit) = ApiParameters.Limit("limit", limit, 50);
        return badLimit ?? (bus.Value.Transport != BusTransport.RabbitMq
            ? NoErrorQueue()
            : Results.Ok(new { queue = errors.ErrorQueueName, messages = await errors.ListAsync(page, ct) }));
    }

    /// <summary><c>POST /api/errors/replay</c> with <c>{"ids": [...]}</c> or <c>{"all": true}</c>.</summary>
    public static async Task<IResult> ReplayAsync(ReplayRequest? request, ErrorQueue errors, IOptions<BusOptions> bus, AuditLog audit, HttpContext http,
        ILoggerFactory loggers, CancellationToken ct)
    {
        if (bus.Value.Transport != BusTransport.RabbitMq)
            return NoErrorQueue();
        if (request?.Ids is null && request?.All != true)
            return Results.Problem(statusCode: 400, title: "Nothing chosen", detail: "Send {\"ids\": [...]} with ids from GET /api/errors, or {\"all\": true}");
        if (request.Ids is { } chosen && (chosen.Length > 10_000 || chosen.Select(i => ApiParameters.Id("ids", i)).FirstOrDefault(p => p is not null) is not null))
            return Results.Problem(statusCode: 400, title: "Invalid parameter 'ids'", detail: "'ids' must be at most 10000 ids of 1-128 characters each");
        var ids = request.All == true ? null : request.Ids!.ToHashSet(StringComparer.Ordinal);
        var moved = await errors.ReplayAsync(ids, Math.Clamp(request.Limit ?? 10_000, 1, 1_000_000), ct);
        var target = request.All == true ? "all" : string.Join(",", request.Ids!.Take(20)) + (request.Ids!.Length > 20 ? $" (+{request.Ids.Length - 20})" : "");
        await AuditApi.RecordAsync(audit, http, loggers, "errors.replay", target, $"{moved} replayed", ct);
        return Results.Ok(new { replayed = moved });
    }

    /// <summary><c>DELETE /api/errors/{id}</c>: one message for good.</summary>
    public static async Task<IResult> DeleteAsync(string id, ErrorQueue errors, IOptions<BusOptions> bus, AuditLog audit, HttpContext http,
        ILoggerFactory loggers, CancellationToken ct)
    {
        if (ApiParameters.Id("id", id) is { } problem)
            return problem;
        if (bus.Value.Transport != BusTransport.RabbitMq)
            return NoErrorQueue();
        var deleted = await errors.DeleteAsync(new HashSet<string>(StringComparer.Ordinal) { id }, ct);
        await AuditApi.RecordAsync(audit, http, loggers, "errors.delete", id, $"{deleted} deleted", ct);
        return deleted == 0
            ? Results.Problem(statusCode: 404, title: "No such message", detail: "No message with that id waits in the error queue")
            : Results.Ok(new { deleted });
    }

    static IResult NoErrorQueue() => Results.Problem(statusCode: 501, title: "No error queue", detail: "The in-memory transport keeps no error queue");

    /// <summary>Body of <c>POST /api/errors/replay</c>: the ids to move back, or all (up to limit).</summary>
    internal sealed record ReplayRequest(string[]? Ids, bool? All, int? Limit);
}
