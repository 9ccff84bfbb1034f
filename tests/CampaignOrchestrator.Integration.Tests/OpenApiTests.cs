using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>The OpenAPI document describes every endpoint and the role each needs.</summary>
public sealed class OpenApiTests
{
    [Fact]
    public async Task The_document_lists_every_api_endpoint_with_its_role()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        Assert.Equal(HttpStatusCode.Unauthorized, (await worker.Anonymous.GetAsync("/openapi/v1.json")).StatusCode);
        using var viewer = worker.As(TestKeys.Viewer);
        var document = await viewer.GetFromJsonAsync<JsonObject>("/openapi/v1.json");
        var paths = document!["paths"]!.AsObject();
        (string Path, string Method, string Role)[] expected =
        [
            ("/api/customers/{id}", "get", "viewer"), ("/api/rules", "get", "viewer"), ("/api/campaigns", "get", "viewer"),
            ("/api/campaigns/{id}", "get", "viewer"), ("/api/campaigns/{id}/log", "get", "viewer"), ("/api/metrics", "get", "viewer"),
            ("/api/actions", "get", "viewer"), ("/api/actions/{actionId}/cancel", "post", "marketer"), ("/api/campaigns/{id}/cancel", "post", "marketer"),
            ("/api/errors", "get", "admin"), ("/api/errors/replay", "post", "admin"), ("/api/errors/{id}", "delete", "admin"), ("/api/audit", "get", "admin"),
            ("/api/customers/{id}/export", "get", "admin"), ("/api/customers/{id}", "delete", "admin"),
            ("/api/rules/validate", "post", "marketer"), ("/api/rules", "put", "marketer"), ("/api/rules/versions", "get", "viewer"),
            ("/api/rules/versions/{version}", "get", "viewer"), ("/api/customers", "get", "viewer"),
            ("/api/placements/{id}", "get", "placement"), ("/api/campaigns/{id}/results", "get", "viewer"),
            ("/api/customers/{id}/explain", "get", "viewer"), ("/api/funnel", "get", "viewer"),
            ("/api/rules/preview", "post", "marketer"), ("/api/rules/preview/{id}", "get", "viewer"), ("/api/rules/previews", "get", "viewer"),
            ("/api/rules/preview/{id}/cancel", "post", "marketer"), ("/api/rules/versions/{version}/activate", "post", "marketer"),
        ];
        foreach (var (path, method, role) in expected)
        {
            var operation = paths[path]?[method];
            Assert.True(operation is not null, $"{method} {path} is not in the document");
            Assert.Equal([role], operation!["tags"]!.AsArray().Select(t => (string?)t));
            Assert.StartsWith($"Role: {role}", (string?)operation["description"]);
        }
        Assert.Equal(expected.Select(e => e.Path).Distinct().Order(), paths.Select(p => p.Key).Where(p => p.StartsWith("/api/")).Order());
    }
}
