namespace CampaignOrchestrator.Core.Rules;

/// <summary>
/// The email templates an installation has, each with its locales (<c>templates/cart-reminder/nl</c>): what a rules file's
/// <c>template:</c> is checked against, so a name that does not exist (or exists in fewer languages than the installation
/// sends) is refused with its place instead of failing every mail later.
/// </summary>
public sealed class TemplateCatalog(IReadOnlyDictionary<string, IReadOnlySet<string>> locales)
{
    /// <summary>Every locale some template has: the languages the installation sends.</summary>
    public IReadOnlyList<string> Locales { get; } = locales.Values.SelectMany(l => l).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Why <paramref name="name"/> cannot be sent, or null when it exists in every locale the installation sends.</summary>
    public string? Problem(string name)
    {
        if (!locales.TryGetValue(name, out var have))
        {
            var names = locales.Keys.Order(StringComparer.Ordinal).ToList();
            return $"there is no email template '{name}'; the templates folder has {(names.Count == 0 ? "none" : string.Join(", ", names))}";
        }
        var missing = Locales.Where(l => !have.Contains(l)).ToList();
        return missing.Count == 0 ? null
            : $"email template '{name}' has no {string.Join(", ", missing)} version (this installation sends {string.Join(", ", Locales)})";
    }
}
