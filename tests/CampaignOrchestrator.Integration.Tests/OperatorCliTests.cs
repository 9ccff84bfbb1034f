using System.Text.Json.Nodes;
using CampaignOrchestrator.Integration.Tests.Support;
using CampaignOrchestrator.Worker.Commands;

namespace CampaignOrchestrator.Integration.Tests;

/// <summary>The operator CLI on the worker binary against a running worker: answers, refusals and exit codes.</summary>
public sealed class OperatorCliTests
{
    static async Task<(int Exit, string Output, string Errors)> RunAsync(string? key, params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        var before = Environment.GetEnvironmentVariable("CAMPAIGN_API_KEY");
        Environment.SetEnvironmentVariable("CAMPAIGN_API_KEY", key);
        try
        {
            return (await ApiCommand.RunAsync(args, output, errors), output.ToString(), errors.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable("CAMPAIGN_API_KEY", before);
        }
    }

    [Fact]
    public async Task The_cli_lists_shows_and_cancels_through_the_api_and_its_exit_codes_say_how_it_went()
    {
        await using var worker = await TestWorker.StartAsync(Db.Sqlite);
        var url = worker.Http.BaseAddress!.ToString();
        await using var shop = await RabbitPublisher.ConnectAsync();
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
}
