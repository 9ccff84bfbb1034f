using System.Threading.Channels;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>
/// A pool of SMTP connections: a MailKit client serves one sender at a time (not thread-safe: shared, sends fail), so
/// each concurrent send rents its own, connected on first use and kept open for the next. A client that failed in any
/// way is thrown away (MailKit leaves it disconnected after a timeout) and a fresh one takes its place.
/// </summary>
internal sealed class SmtpPool : IAsyncDisposable
{
    readonly SmtpOptions _options;
    readonly Channel<Pooled> _idle;

    /// <summary>A connection and when it last served (a Stopwatch timestamp).</summary>
    readonly record struct Pooled(SmtpClient Client, long LastUsed);

    public SmtpPool(SmtpOptions options)
    {
        _options = options;
        _idle = Channel.CreateBounded<Pooled>(options.PoolSize);
        for (var i = 0; i < options.PoolSize; i++)
            _idle.Writer.TryWrite(new Pooled(new SmtpClient(), System.Diagnostics.Stopwatch.GetTimestamp()));
    }

    /// <summary>How many connections are rented out now (sending).</summary>
    public int InUse => _options.PoolSize - _idle.Reader.Count;

    /// <summary>
    /// Sends on a rented connection; returns the server's answer to DATA. A kept connection idle for longer than
    /// <see cref="SmtpOptions.IdleCheckAfter"/> is checked with NOOP first; one the server closed meanwhile (its idle
    /// timeout, a restart) is replaced by a new one, and a send that finds it closed is made once more on a new one, so a
    /// mail after a quiet spell does not wait for the retry delay.
    /// </summary>
    public async Task<string> SendAsync(MimeMessage message, CancellationToken ct)
    {
        var (client, lastUsed) = await _idle.Reader.ReadAsync(ct);
        var healthy = false;
        try
        {
            var kept = client.IsConnected;
            if (kept && System.Diagnostics.Stopwatch.GetElapsedTime(lastUsed) > _options.IdleCheckAfter)
            {
                try
                {
                    await client.NoOpAsync(ct);
                }
                catch (Exception ex) when (IsConnectionLoss(ex))
                {
                    client = Replace(client);
                    kept = false;
                }
            }
            if (!client.IsConnected)
                await ConnectAsync(client, ct);
            string answer;
            try
            {
                answer = await client.SendAsync(message, ct);
            }
            catch (Exception ex) when (kept && IsConnectionLoss(ex))
            {
                client = Replace(client);
                await ConnectAsync(client, ct);
                answer = await client.SendAsync(message, ct);
            }
            healthy = true;
            return answer;
        }
        finally
        {
            if (!healthy)
                client = Replace(client);
            _idle.Writer.TryWrite(new Pooled(client, System.Diagnostics.Stopwatch.GetTimestamp()));
        }
    }

    async Task ConnectAsync(SmtpClient client, CancellationToken ct)
    {
        var security = _options.Security switch
        {
            SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
            SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.None,
        };
        await client.ConnectAsync(_options.Host, _options.Port, security, ct);
        if (!string.IsNullOrEmpty(_options.Username))
            await client.AuthenticateAsync(_options.Username, _options.Password ?? "", ct);
    }

    /// <summary>The server is gone from this connection (closed, reset, "421 closing"): a new connection may well work.</summary>
    static bool IsConnectionLoss(Exception ex) => ex is IOException or System.Net.Sockets.SocketException or ServiceNotConnectedException
        or SmtpProtocolException || ex is SmtpCommandException { StatusCode: SmtpStatusCode.ServiceNotAvailable };

    static SmtpClient Replace(SmtpClient client)
    {
        try { client.Dispose(); } catch (Exception) { }
        return new SmtpClient();
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.Reader.TryRead(out var pooled))
        {
            var client = pooled.Client;
            try
            {
                if (client.IsConnected)
                    await client.DisconnectAsync(quit: true);
            }
            catch (Exception) { }
            client.Dispose();
        }
    }
}
