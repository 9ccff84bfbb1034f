using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Worker.Hosting;
using CampaignOrchestrator.Worker.Security;

namespace CampaignOrchestrator.Worker.Api;

/// <summary><c>/api/audit</c>: what operators did, and how an operator action is recorded.</summary>
internal static class AuditApi
{
    /// <summary><c>GET /api/audit?after=&amp;limit=</c> (admin).</summary>
    public static async Task<IResult> ReadAsync(long? after, int? limit, AuditLog audit, CancellationToken ct)
    {
        var (from, badAfter) = ApiParameters.After("after", after);
        var (page, badLimit) = ApiParameters.Limit("limit", limit, 100);
        return badAfter ?? badLimit ?? Results.Ok(await audit.ReadAsync(from, page, ct));
    }

    /// <summary>An operator action: into the audit log with the key's name, and the log.</summary>
    public static async Task RecordAsync(AuditLog audit, HttpContext http, ILoggerFactory loggers, string action, string? target, string detail, CancellationToken ct)
    {
        await audit.RecordAsync(http.KeyName(), action, target, detail, ct);
        Log.OperatorAction(loggers.CreateLogger("CampaignOrchestrator.Worker.Api.Audit"), http.KeyName(), action, target, detail);
    }
}
