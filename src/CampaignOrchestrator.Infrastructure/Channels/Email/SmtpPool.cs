using System.Threading.Channels;
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
    readonly Channel<SmtpClient> _idle;

    public SmtpPool(SmtpOptions options)
    {
        _options = options;
        _idle = Channel.CreateBounded<SmtpClient>(options.PoolSize);
        for (var i = 0; i < options.PoolSize; i++)
            _idle.Writer.TryWrite(new SmtpClient());
    }

    /// <summary>How many connections are rented out now (sending).</summary>
    public int InUse => _options.PoolSize - _idle.Reader.Count;

    /// <summary>Sends on a rented connection; returns the server's answer to DATA.</summary>
    public async Task<string> SendAsync(MimeMessage message, CancellationToken ct)
    {
        var client = await _idle.Reader.ReadAsync(ct);
        var healthy = false;
        try
        {
            if (!client.IsConnected)
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
            var answer = await client.SendAsync(message, ct);
            healthy = true;
            return answer;
        }
        finally
        {
            if (!healthy)
            {
                try { client.Dispose(); } catch (Exception) { }
                client = new SmtpClient();
            }
            _idle.Writer.TryWrite(client);
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.Reader.TryRead(out var client))
        {
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
