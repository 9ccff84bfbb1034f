namespace CampaignOrchestrator.Integration.Tests.Support;

/// <summary>What reached the SMTP sink (aiosmtpd writing a Maildir), counted by Message-ID.</summary>
internal static class MailSink
{
    /// <summary>How many times each Message-ID of <paramref name="domain"/> (<c>&lt;actionId@domain&gt;</c>) arrived, keyed by actionId.</summary>
    public static Dictionary<string, int> CountByActionId(string domain)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var folder = Path.Combine(TestServers.Maildir, "new");
        if (!Directory.Exists(folder))
            return seen;
        foreach (var file in Directory.GetFiles(folder))
        {
            string? line;
            try
            {
                line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith("Message-Id:", StringComparison.OrdinalIgnoreCase));
            }
            catch (IOException)
            {
                continue;   // being written
            }
            var id = line?[11..].Trim().Trim('<', '>');
            if (id is not null && id.EndsWith("@" + domain, StringComparison.Ordinal))
            {
                var actionId = id[..id.IndexOf('@')];
                seen[actionId] = seen.GetValueOrDefault(actionId) + 1;
            }
        }
        return seen;
    }

    /// <summary>Waits up to <paramref name="timeout"/> until <paramref name="expected"/> distinct Message-IDs of the domain arrived; returns the last count.</summary>
    public static async Task<Dictionary<string, int>> WaitForAsync(string domain, int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Dictionary<string, int> seen;
        while ((seen = CountByActionId(domain)).Count < expected && DateTime.UtcNow < deadline)
            await Task.Delay(250);
        // Repeats may still be arriving: a last look a moment later.
        await Task.Delay(1000);
        return CountByActionId(domain);
    }
}
