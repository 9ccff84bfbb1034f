using CampaignOrchestrator.Worker.Hosting;

namespace CampaignOrchestrator.Integration.Tests;

[Collection("Console")]
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Bus:RabbitMq:Port", "0", "Bus:RabbitMq:Port must be 1-65535, was 0")]
    [InlineData("Bus:RabbitMq:PrefetchCount", "0", "Bus:RabbitMq:PrefetchCount must be 1-65535, was 0")]
    [InlineData("Bus:ConcurrentMessageLimit", "0", "Bus:ConcurrentMessageLimit must be 1-10000, was 0")]
    [InlineData("Bus:RabbitMq:Host", "", "Bus:RabbitMq:Host is required")]
    [InlineData("Storage:ConnectionString", "", "Storage:ConnectionString is required")]
    [InlineData("Storage:Provider", "Oracle", "Storage:Provider")]
    [InlineData("Bus:Transport", "Kafka", "Bus:Transport")]
    public void Invalid_configuration_fails_the_start_naming_the_key(string key, string value, string message)
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            var app = WorkerApp.Build([], new Dictionary<string, string?> { [key] = value });
            Assert.Null(app);
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Contains("Invalid configuration", error.ToString());
        Assert.Contains(message, error.ToString());
    }
}
