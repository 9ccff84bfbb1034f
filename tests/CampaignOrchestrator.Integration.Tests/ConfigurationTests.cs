using CampaignOrchestrator.Worker.Hosting;

namespace CampaignOrchestrator.Integration.Tests;

[Collection(ProcessWideCollection.Name)]
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
    [InlineData("Rules:Path", "no/such/rules", "Rules:Path: no rules file or folder at 'no/such/rules'")]
    [InlineData("Scheduling:BatchSize", "0", "Scheduling:BatchSize must be 1-10000 (got 0)")]
    [InlineData("Scheduling:ClaimLease", "00:00:01", "Scheduling:ClaimLease must be at least 00:00:05")]
    [InlineData("Bus:RabbitMq:QueueType", "stream", "Bus:RabbitMq:QueueType must be classic or quorum, was 'stream'")]
    [InlineData("Bus:RabbitMq:Hosts:0", "rabbit-1:notaport", "Bus:RabbitMq:Hosts: 'rabbit-1:notaport' is not host or host:port")]
    [InlineData("Scheduling:MaxClockSkew", "00:00:00.1", "Scheduling:MaxClockSkew must be at least 00:00:00.5 (got 00:00:00.1000000)")]
    [InlineData("Shutdown:Timeout", "00:00:00", "Shutdown:Timeout must be between 00:00:01 and 00:10:00 (got 00:00:00)")]
    [InlineData("Bus:Events:MaxAge", "00:10:00", "Bus:Events:MaxAge must be at least 01:00:00, was 00:10:00")]
    [InlineData("Bus:Events:MaxTraits", "0", "Bus:Events:MaxTraits must be 1-500, was 0")]
    [InlineData("Telemetry:Traces", "sometimes", "Telemetry:Traces must be one of on, off, auto (got 'sometimes')")]
    [InlineData("Telemetry:Metrics", "auto", "Telemetry:Metrics must be one of on, off (got 'auto')")]
    [InlineData("Telemetry:TraceSampleRatio", "10%", "Telemetry:TraceSampleRatio must be a number from 0 to 1")]
    [InlineData("Telemetry:Otlp:Protocol", "http", "Telemetry:Otlp:Protocol must be grpc or http/protobuf (got 'http')")]
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

    [Fact]
    public void A_rules_file_with_errors_fails_the_start_with_every_error()
    {
        var folder = Directory.CreateTempSubdirectory("co-config-rules-").FullName;
        File.WriteAllText(Path.Combine(folder, "bad.yaml"), "campaigns:\n  - id: a\n    trigger: { event: x }\n    steps:\n      - delay: soon\n        action: { kind: email, template: t }\n");
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Null(WorkerApp.Build([], new Dictionary<string, string?> { ["Rules:Path"] = folder }));
        }
        finally
        {
            Console.SetError(original);
            Directory.Delete(folder, recursive: true);
        }
        Assert.Contains("Invalid configuration: Rules:Path: ", error.ToString());
        Assert.Contains("bad.yaml:5:16 campaign 'a': delay 'soon' is not a duration", error.ToString());
    }
}
