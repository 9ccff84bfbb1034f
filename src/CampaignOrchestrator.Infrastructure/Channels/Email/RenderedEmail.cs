using System.Text.Encodings.Web;
using Fluid;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>A rendered email: subject, HTML and plain-text parts, and the locale they were written in.</summary>
public sealed record RenderedEmail(string Subject, string Html, string Text, string Locale);
