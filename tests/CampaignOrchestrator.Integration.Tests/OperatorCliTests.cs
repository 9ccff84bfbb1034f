using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;
using CampaignOrchestrator.Worker.Commands;
using Microsoft.Extensions.DependencyInjection;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>The operator CLI on the worker binary against a running worker: answers, refusals and exit codes.</summary>
[Collection(ApiKeyVariableCollection.Name)]
public sealed class OperatorCliTests
{
    static Task<(int Exit, string Output, string Errors)> RunAsync(string? key, params string[] args) => Cli.RunAsync(key, args);

    [Fact]
    public async Task The_cli_lists_shows_and_cancels_through_the_api_and_its_exit_codes_say_how_it_went()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        var url = worker.Http.BaseAddress!.ToString();
        await using var shop = await worker.ShopAsync();
        var customer = Events.Id("cli");
        await shop.PublishAsync(Events.Json("order_placed", Events.Id("o"), DateTimeOffset.UtcNow.AddMinutes(-1), customer,
            properties: new { orderId = "o-1", total = 10 }));
        await worker.WaitForCustomerAsync(customer, j => j.EventCount() == 1);

        var (exit, output, _) = await RunAsync(TestKeys.Viewer, "customers", "show", customer, "--url", url);
        Assert.Equal(0, exit);
        Assert.Equal(customer, (string?)JsonNode.Parse(output)!["customerId"]);

        (exit, output, _) = await RunAsync(TestKeys.Viewer, "actions", "list", "--customer", customer, "--url", url, "--json");
        Assert.Equal(0, exit);
        Assert.IsType<JsonArray>(JsonNode.Parse(output));

        var (refused, _, why) = await RunAsync(TestKeys.Viewer, "actions", "cancel", "--campaign", "care-after-delivery", "--url", url);
        Assert.Equal(1, refused);
        Assert.Contains("403", why);
        (exit, output, _) = await RunAsync(TestKeys.Marketer, "actions", "cancel", "--campaign", "care-after-delivery", "--url", url);
        Assert.Equal(0, exit);
        Assert.NotNull(JsonNode.Parse(output)!["cancelled"]);

        (exit, output, _) = await RunAsync(TestKeys.Admin, "errors", "list", "--url", url);
        Assert.Equal(0, exit);
        Assert.NotNull(JsonNode.Parse(output)!["messages"]);

        Assert.Equal(1, (await RunAsync(TestKeys.Admin, "customers", "show", "nobody-we-know", "--url", url)).Exit);   // 404
        Assert.Equal(2, (await RunAsync(TestKeys.Admin, "customers", "frobnicate", "--url", url)).Exit);
        Assert.Equal(2, (await RunAsync(null, "errors", "list", "--url", url)).Exit);
        Assert.Equal(1, (await RunAsync(TestKeys.Admin, "errors", "list", "--url", "http://127.0.0.1:9")).Exit);   // nothing listens there
    }

    [Fact]
    public async Task A_mistyped_command_prints_usage_and_starts_no_worker()
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "CampaignOrchestrator.Worker.dll"), "campaigns", "results", "x"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(psi)!;
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);   // a worker would run until stopped
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("unknown command 'campaigns'", await errors);
        Assert.Contains("usage: CampaignOrchestrator.Worker", await errors);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_url_that_is_not_http_is_refused_and_an_export_is_readable_by_its_owner_only()
    {
        var (exit, _, errors) = await RunAsync(TestKeys.Admin, "errors", "list", "--url", "ftp://127.0.0.1/x");
        Assert.Equal((2, "--url must be an absolute http(s) address"), (exit, errors.Trim()));
        (exit, _, errors) = await RunAsync(TestKeys.Marketer, "rules", "preview", "--rules", "r.yaml", "--url", "file:///etc/passwd");
        Assert.Equal(2, exit);

        await using var worker = await TestWorker.StartAsync(Db.Sqlite, transport: "InMemory");
        var file = Path.Combine(Path.GetTempPath(), $"export-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, "old");
        File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);   // an older file, readable by all
        try
        {
            // A customer nobody knows answers 404; a known one's export lands in the file, mode 600.
            await worker.Services.GetRequiredService<Infrastructure.Journeys.JourneyStore>().ApplyAsync(
                [new Core.Events.AcceptedEvent("e-1", "page_viewed", DateTimeOffset.UtcNow.AddMinutes(-1), "cli-private", null, null, null, null)], default);
            (exit, _, errors) = await RunAsync(TestKeys.Admin, "customers", "export", "cli-private", "--out", file, "--url", worker.Http.BaseAddress!.ToString());
            Assert.True(exit == 0, errors);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Contains("cli-private", await File.ReadAllTextAsync(file));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
