using System.Text.Encodings.Web;
using Fluid;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

public sealed class EmailTemplatesRejectedException(IReadOnlyList<string> errors)
    : Exception("Email templates refused:\n" + string.Join("\n", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
