using System.Net;

namespace CampaignOrchestrator.Bench;

/// <summary>
/// Stands in for an OpenTelemetry collector (OTLP over HTTP): takes every POST, reads its body and answers 200, counting
/// what it got, so the worker's exporters do their whole work. Started once per bench process.
/// </summary>
internal static class OtlpSink
{
    static HttpListener? s_listener;
    static long s_requests, s_bytes;

    public static (long Requests, long Bytes) Received => (Interlocked.Read(ref s_requests), Interlocked.Read(ref s_bytes));

    public static void Start(int port)
    {
        if (s_listener is not null)
            return;
        s_listener = new HttpListener();
        s_listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        s_listener.Start();
        _ = Task.Run(async () =>
        {
            while (s_listener.IsListening)
            {
                var context = await s_listener.GetContextAsync();
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await context.Request.InputStream.ReadAsync(buffer)) > 0)
                    Interlocked.Add(ref s_bytes, read);
                Interlocked.Increment(ref s_requests);
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        });
    }
}
