using MimeKit;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

public enum SmtpSecurity
{
    None,
    StartTls,
    SslOnConnect,
}
