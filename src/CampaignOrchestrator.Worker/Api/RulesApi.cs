using System.Text;
using System.Text.RegularExpressions;
using CampaignOrchestrator.Core.Rules;
using CampaignOrchestrator.Infrastructure.Channels.Email;
using CampaignOrchestrator.Infrastructure.Campaigns;
using CampaignOrchestrator.Infrastructure.Rules;
using CampaignOrchestrator.Infrastructure.Storage;
using CampaignOrchestrator.Worker.Preview;
using CampaignOrchestrator.Worker.Security;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Api;

/// <summary>
/// The rules over HTTP: <c>POST /api/rules/validate</c> checks rules without changing anything, <c>PUT /api/rules</c> puts
/// them in force (marketer, audited), <c>GET /api/rules/versions</c> and <c>/api/rules/versions/{version}</c> show the history
/// (viewer). Rules come as one YAML body (<c>?name=</c> names the file, default <c>rules.yaml</c>) or as a multipart upload
/// of files; errors come back with file, line and column.
/// </summary>
internal static partial class RulesApi
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.ya?ml$")]
    private static partial Regex FileName();

    /// <summary>The rules' routes (see <see cref="OperatorApi.MapOperatorApi"/>): the role each needs and its handler.</summary>
    public static void MapRulesApi(this IEndpointRouteBuilder viewer, IEndpointRouteBuilder marketer)
    {
        marketer.MapPost("/rules/validate", ValidateAsync).WithSummary(BodyForms);
        marketer.MapPut("/rules", UploadAsync).WithSummary(BodyForms);
        marketer.MapPost("/rules/preview", PreviewAsync).WithSummary(BodyForms + "; ?days= (default 7, at most Preview:MaxDays)");
        viewer.MapGet("/rules/preview/{id}", GetPreview);
        marketer.MapPost("/rules/preview/{id}/cancel", CancelPreviewAsync)
            .WithSummary("Stops a running preview; it then answers what it judged (status cancelled, result with complete false)");
        viewer.MapGet("/rules/previews", ListPreviews);
        viewer.MapGet("/rules/versions", ListVersionsAsync);
        marketer.MapPost("/rules/versions/{version}/activate", ActivateAsync)
            .WithSummary("Puts an earlier version back in force (marketer, audited): its files as the history kept them, checked like an upload");
        viewer.MapGet("/rules/versions/{version}", GetVersionAsync);
    }

    /// <summary><c>POST /api/rules/validate</c>: checks rules without changing anything.</summary>
    static async Task<IResult> ValidateAsync(HttpRequest request, EmailTemplates templates, CancellationToken ct)
    {
        var (files, problem) = await ReadFilesAsync(request, ct);
        if (problem is not null)
            return problem;
        try
        {
            var loaded = RulesFiles.Compile(files!, templates.Catalog);
            return Results.Ok(new { valid = true, version = loaded.Version, files = loaded.Files, campaigns = loaded.Rules.Campaigns.Select(c => c.Id) });
        }
        catch (RulesRejectedException ex)
        {
            return Results.Ok(new { valid = false, errors = ex.Errors.Select(Describe) });
        }
    }

    /// <summary><c>PUT /api/rules</c>: puts rules in force (audited); refused rules leave the rules in force.</summary>
    static async Task<IResult> UploadAsync(HttpRequest request, RulesWatcher watcher, ActiveRules rules, AuditLog audit, ILoggerFactory loggers,
        CancellationToken ct)
    {
        var (files, problem) = await ReadFilesAsync(request, ct);
        if (problem is not null)
            return problem;
        try
        {
            var loaded = await watcher.UploadAsync(files!, "upload:" + request.HttpContext.KeyName(), ct);
            var detail = $"{files!.Count} file(s), {loaded.Rules.Campaigns.Count} campaign(s); in force: {rules.Current.Version}";
            await AuditApi.RecordAsync(audit, request.HttpContext, loggers, "rules.upload", loaded.Version, detail, ct);
            return Results.Ok(rules.Status);
        }
        catch (RulesRejectedException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Rules refused",
                detail: $"{ex.Errors.Count} error(s); the rules in force stay", extensions: new Dictionary<string, object?> { ["errors"] = ex.Errors.Select(Describe) });
        }
    }

    /// <summary><c>POST /api/rules/preview?days=</c>: a proposal tried on the stored events before it goes live (Preview/RulesPreview.cs), in the background.</summary>
    static async Task<IResult> PreviewAsync(HttpRequest request, int? days, PreviewJobs previews, IOptions<PreviewOptions> options, AuditLog audit,
        EmailTemplates templates, CancellationToken ct)
    {
        var max = options.Value.MaxDays;
        if (days is { } d && (d < 1 || d > max))
            return Bad("days", $"must be 1-{max} (Preview:MaxDays; got {d})");
        var (files, problem) = await ReadFilesAsync(request, ct);
        if (problem is not null)
            return problem;
        LoadedRules loaded;
        try
        {
            loaded = RulesFiles.Compile(files!, templates.Catalog);
        }
        catch (RulesRejectedException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Rules refused",
                detail: $"{ex.Errors.Count} error(s); nothing to preview", extensions: new Dictionary<string, object?> { ["errors"] = ex.Errors.Select(Describe) });
        }
        var job = previews.Start(new Core.Campaigns.CompiledRules(loaded.Rules, loaded.Version), days ?? 7, request.HttpContext.KeyName());
        if (job is null)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "A preview is running",
                detail: "One preview runs at a time; see GET /api/rules/previews and try again when it is done");
        await audit.RecordAsync(request.HttpContext.KeyName(), "rules.preview", loaded.Version, $"{job.Days} day(s)", ct);
        return Results.Accepted($"/api/rules/preview/{job.Id}", job);
    }

    /// <summary><c>GET /api/rules/preview/{id}</c>: a preview's progress, then its result.</summary>
    static IResult GetPreview(string id, PreviewJobs previews) =>
        previews.Get(id) is { } job ? Results.Ok(job) : UnknownPreview(id);

    /// <summary><c>POST /api/rules/preview/{id}/cancel</c>.</summary>
    static async Task<IResult> CancelPreviewAsync(string id, PreviewJobs previews, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        if (previews.Get(id) is not { } job)
            return UnknownPreview(id);
        if (!previews.Cancel(job))
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The preview is not running", detail: $"Preview {job.Id} is {job.Status}");
        await audit.RecordAsync(http.KeyName(), "rules.preview.cancel", job.Id, job.ProposedVersion, ct);
        return Results.Accepted($"/api/rules/preview/{job.Id}", job);
    }

    /// <summary><c>GET /api/rules/previews</c>: the last ten.</summary>
    static IResult ListPreviews(PreviewJobs previews) => Results.Ok(previews.Recent.Select(j => new
    {
        j.Id, j.ProposedVersion, j.Days, j.By, j.StartedAt, j.Status, j.Progress, j.FinishedAt, j.Error,
    }));

    /// <summary><c>GET /api/rules/versions?limit=</c>: the history.</summary>
    static async Task<IResult> ListVersionsAsync(int? limit, RulesHistory history, CancellationToken ct)
    {
        var (page, badLimit) = ApiParameters.Limit("limit", limit, 50);
        return badLimit ?? Results.Ok(await history.ListAsync(page, ct));
    }

    /// <summary>
    /// <c>POST /api/rules/versions/{version}/activate</c>: an earlier version back in force (a rollback), its files as the history
    /// kept them, written and loaded as an upload is (audited).
    /// </summary>
    static async Task<IResult> ActivateAsync(string version, RulesHistory history, RulesWatcher watcher, ActiveRules rules,
        AuditLog audit, HttpContext http, ILoggerFactory loggers, CancellationToken ct)
    {
        if (ApiParameters.Id("version", version) is { } bad)
            return bad;
        if (await history.GetAsync(version, ct) is not { } found)
            return Results.Problem(statusCode: 404, title: "Unknown rules version", detail: $"No worker took rules version '{version}'");
        if (found.Sources is not { Count: > 0 } sources)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "No text kept for this version",
                detail: $"Version {version} was recorded by an earlier release, which kept no files' text: upload its files instead");
        if (rules.Current.Version == version)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already in force", detail: $"Version {version} is the version in force");
        var previous = rules.Current.Version;
        try
        {
            await watcher.UploadAsync(sources.Select(kv => new RulesSource(kv.Key, kv.Value)).ToList(), "rollback:" + http.KeyName(), ct);
        }
        catch (RulesRejectedException ex)
        {
            // The rules of this release refuse what an earlier one took (a bound that is new): the version in force stays.
            return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Rules refused",
                detail: $"{ex.Errors.Count} error(s); version {version} no longer passes validation, the rules in force stay",
                extensions: new Dictionary<string, object?> { ["errors"] = ex.Errors.Select(Describe) });
        }
        var detail = $"version {version} back in force (was {previous}); in force: {rules.Current.Version}";
        await AuditApi.RecordAsync(audit, http, loggers, "rules.rollback", version, detail, ct);
        return Results.Ok(rules.Status);
    }

    /// <summary><c>GET /api/rules/versions/{version}</c>: one version with its files.</summary>
    static async Task<IResult> GetVersionAsync(string version, RulesHistory history, CancellationToken ct) =>
        ApiParameters.Id("version", version) ?? (await history.GetAsync(version, ct) is { } found
            ? Results.Ok(found)
            : Results.Problem(statusCode: 404, title: "Unknown rules version", detail: $"No worker took rules version '{version}'"));

    static IResult UnknownPreview(string id) =>
        Results.Problem(statusCode: 404, title: "Unknown preview", detail: $"No preview '{Shorten(id)}' (the last ten are kept until the worker restarts)");

    // Not .Accepts(): routing by content type would answer 415 before the key is checked.
    const string BodyForms = "Body: one rules file as application/yaml (?name= names it), or multipart/form-data files";

    static object Describe(RuleError e) => new { file = e.File, line = e.Line, column = e.Column, campaignId = e.CampaignId, message = e.Message, text = e.ToString() };

    /// <summary>The rules files of the request: one YAML body, or the files of a multipart form.</summary>
    static async Task<(IReadOnlyList<RulesSource>? Files, IResult? Problem)> ReadFilesAsync(HttpRequest request, CancellationToken ct)
    {
        var files = new List<RulesSource>();
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            foreach (var file in form.Files)
            {
                var name = Path.GetFileName(file.FileName ?? "");
                if (!FileName().IsMatch(name) || name != file.FileName)
                    return (null, Bad("files", $"'{Shorten(file.FileName)}' is not a rules file name (letters, digits, . _ -, ending .yaml or .yml; no folders)"));
                using var reader = new StreamReader(file.OpenReadStream(), Encoding.UTF8);
                files.Add(new RulesSource(name, await reader.ReadToEndAsync(ct)));
            }
            if (files.Count == 0)
                return (null, Bad("files", "the form holds no file"));
        }
        else
        {
            var type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
            if (type is not ("application/yaml" or "application/x-yaml" or "text/yaml" or "text/x-yaml" or "text/plain"))
                return (null, Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type",
                    detail: "Send the rules as application/yaml (one file; ?name= names it) or as multipart/form-data files"));
            var name = request.Query["name"].FirstOrDefault() ?? "rules.yaml";
            if (!FileName().IsMatch(name))
                return (null, Bad("name", $"'{Shorten(name)}' is not a rules file name (letters, digits, . _ -, ending .yaml or .yml)"));
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            files.Add(new RulesSource(name, await reader.ReadToEndAsync(ct)));
        }
        if (files.Select(f => f.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() != files.Count)
            return (null, Bad("files", "two files have the same name"));
        return (files, null);
    }

    static string Shorten(string? value) => value is null ? "" : value.Length <= 40 ? value : value[..40] + "…";

    static IResult Bad(string name, string what) =>
        Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: $"Invalid parameter '{name}'", detail: what,
            extensions: new Dictionary<string, object?> { ["parameter"] = name });
}
