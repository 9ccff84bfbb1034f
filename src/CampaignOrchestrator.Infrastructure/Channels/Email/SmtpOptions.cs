using MimeKit;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

public sealed class SmtpOptions
{
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 2525;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.None;

    /// <summary>Set with <see cref="Password"/> to authenticate; set both from the environment.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Connections kept open and used at once (a MailKit client serves one sender at a time).</summary>
    public int PoolSize { get; set; } = 4;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A mail that failed for a passing reason after its retries waits this long, pending, before it falls due again.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the circuit stays open (no sending at all) once half the recent sends failed.</summary>
    public TimeSpan PauseOnOutage { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A kept connection idle for longer is checked with NOOP before a send (servers close idle ones after minutes).</summary>
    public TimeSpan IdleCheckAfter { get; set; } = TimeSpan.FromSeconds(30);
}
