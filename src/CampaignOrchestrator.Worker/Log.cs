namespace CampaignOrchestrator.Worker;

/// <summary>Source-generated log messages of the host: 8xxx. Never keys, secrets or email addresses.</summary>
internal static partial class Log
{
    [LoggerMessage(8001, LogLevel.Warning, "No API key is configured: the API refuses every request but /health. Create one with " +
        "`dotnet CampaignOrchestrator.Worker.dll keys create --name ops --role admin` and add the two lines it prints to the configuration")]
    public static partial void NoApiKey(ILogger logger);

    [LoggerMessage(8002, LogLevel.Information, "Operator {KeyName}: {Action} {Target}: {Detail}")]
    public static partial void OperatorAction(ILogger logger, string keyName, string action, string? target, string? detail);

    [LoggerMessage(8003, LogLevel.Warning, "Rules preview {PreviewId} failed")]
    public static partial void PreviewFailed(ILogger logger, string previewId, Exception exception);
}
