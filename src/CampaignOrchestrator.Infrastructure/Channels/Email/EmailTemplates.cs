using System.Text.Encodings.Web;
using Fluid;

namespace CampaignOrchestrator.Infrastructure.Channels.Email;

/// <summary>
/// Email templates in Liquid (Fluid): one folder per template, one subfolder per locale, each with <c>subject.liquid</c>,
/// <c>html.liquid</c> and <c>text.liquid</c> (<c>templates/cart-reminder/nl/html.liquid</c>). A customer's locale
/// (<c>nl-NL</c>) picks <c>nl-NL</c>, then <c>nl</c>, then the default locale. Values are HTML-escaped in the HTML part.
/// Every file is parsed at load: one that does not parse refuses the whole folder, naming file, line and column.
/// </summary>
public sealed class EmailTemplates
{
    static readonly FluidParser Parser = new();
    static readonly string[] Parts = ["subject", "html", "text"];
    readonly Dictionary<(string Template, string Locale), IFluidTemplate[]> _templates;
    readonly TemplateOptions _options = new();

    EmailTemplates(Dictionary<(string, string), IFluidTemplate[]> templates, string defaultLocale)
    {
        _templates = templates;
        DefaultLocale = defaultLocale;
    }

    public string DefaultLocale { get; }

    public IEnumerable<string> Names => _templates.Keys.Select(k => k.Template).Distinct(StringComparer.Ordinal);

    /// <summary>The templates and their locales, for checking rules (<see cref="Core.Rules.TemplateCatalog"/>).</summary>
    public Core.Rules.TemplateCatalog Catalog => _catalog ??= new(_templates.Keys.GroupBy(k => k.Template, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Select(k => k.Locale).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal));

    Core.Rules.TemplateCatalog? _catalog;

    /// <summary>Loads every template under <paramref name="folder"/>; throws <see cref="EmailTemplatesRejectedException"/> listing every error.</summary>
    public static EmailTemplates Load(string folder, string defaultLocale)
    {
        var errors = new List<string>();
        var templates = new Dictionary<(string, string), IFluidTemplate[]>();
        if (!Directory.Exists(folder))
            throw new EmailTemplatesRejectedException([$"{folder}: no such folder"]);
        foreach (var templateDir in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(templateDir);
            foreach (var localeDir in Directory.GetDirectories(templateDir).Order(StringComparer.Ordinal))
            {
                var locale = Path.GetFileName(localeDir);
                var parsed = new IFluidTemplate[Parts.Length];
                for (var i = 0; i < Parts.Length; i++)
                {
                    var file = Path.Combine(localeDir, Parts[i] + ".liquid");
                    if (!File.Exists(file))
                        errors.Add($"{file}: missing ({name}/{locale} needs {string.Join(", ", Parts.Select(p => p + ".liquid"))})");
                    else if (!Parser.TryParse(File.ReadAllText(file), out parsed[i], out var error))
                        errors.Add($"{file}: {error}");
                }
                templates[(name, locale)] = parsed;
            }
            if (!templates.ContainsKey((name, defaultLocale)))
                errors.Add($"{templateDir}: no {defaultLocale} variant (the default locale, used when the customer's is missing)");
        }
        if (errors.Count > 0)
            throw new EmailTemplatesRejectedException(errors);
        return new EmailTemplates(templates, defaultLocale);
    }

    /// <summary>Renders <paramref name="template"/> in the customer's <paramref name="locale"/> (or the fallback), or null when no such template exists.</summary>
    public async Task<RenderedEmail?> RenderAsync(string template, string? locale, IReadOnlyDictionary<string, object?> model)
    {
        var chosen = Candidates(locale).FirstOrDefault(l => _templates.ContainsKey((template, l)));
        if (chosen is null)
            return null;
        var parts = _templates[(template, chosen)];
        var context = new TemplateContext(_options);
        foreach (var (key, value) in model)
            context.SetValue(key, value);
        var subject = (await parts[0].RenderAsync(context, NullEncoder.Default)).Trim();
        var html = await parts[1].RenderAsync(context, HtmlEncoder.Default);
        var text = await parts[2].RenderAsync(context, NullEncoder.Default);
        return new RenderedEmail(subject.ReplaceLineEndings(" "), html, text, chosen);
    }

    IEnumerable<string> Candidates(string? locale)
    {
        if (!string.IsNullOrWhiteSpace(locale))
        {
            yield return locale;
            var dash = locale.IndexOf('-');
            if (dash > 0)
                yield return locale[..dash];
        }
        yield return DefaultLocale;
    }
}
