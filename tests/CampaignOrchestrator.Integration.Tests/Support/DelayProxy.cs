using System.Net;
using System.Net.Sockets;

namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>
/// A TCP proxy on loopback in front of a real server (PostgreSQL, the SMTP sink) that makes it slow, not down: every
/// chunk a client sends is held <see cref="Delay"/> before it is passed on, so each round trip takes that much longer.
/// Setting the delay back to zero makes the server fast again for the connections already open.
/// </summary>
internal sealed class DelayProxy : IAsyncDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly int _target;
    readonly CancellationTokenSource _stop = new();
    readonly List<TcpClient> _open = [];
    readonly Task _accepting;

    public DelayProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The loopback port clients connect to.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How long each chunk from a client waits before it reaches the server.</summary>
    public TimeSpan Delay { get; set; }

    async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
            }
            catch (Exception)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }
            lock (_open)
                _open.AddRange([client, server]);
            _ = PumpAsync(client, server, delayed: true);
            _ = PumpAsync(server, client, delayed: false);
        }
    }

    async Task PumpAsync(TcpClient from, TcpClient to, bool delayed)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            var source = from.GetStream();
            var sink = to.GetStream();
            while (true)
            {
                var read = await source.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                    break;
                if (delayed && Delay > TimeSpan.Zero)
                    await Task.Delay(Delay, _stop.Token);
                await sink.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception)
        {
            // a side closed or the proxy stops: close both
        }
        from.Dispose();
        to.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        lock (_open)
            foreach (var c in _open)
                c.Dispose();
        _stop.Dispose();
    }
}
