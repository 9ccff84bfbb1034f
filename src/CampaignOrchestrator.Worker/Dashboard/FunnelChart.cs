using System.Globalization;
using System.Xml.Linq;
using CampaignOrchestrator.Infrastructure.Journeys;

namespace CampaignOrchestrator.Worker.Dashboard;

/// <summary>
/// The funnel as server-rendered SVG (the dashboard's chart, no script library): one bar per phase, its length the customers
/// who reached it, the darker part those in it now, labelled with the phase, the counts and the rate on to the next phase.
/// Built with <see cref="XElement"/>, so every text is escaped.
/// </summary>
internal static class FunnelChart
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    const int Width = 780, Row = 52, Label = 150, Bar = 300;

    public static string Render(FunnelView view)
    {
        var max = Math.Max(1, view.Phases.Max(p => Math.Max(p.Reached, p.Now)));
        var height = 40 + view.Phases.Count * Row;
        var svg = new XElement(Svg + "svg",
            new XAttribute("viewBox", $"0 0 {Width} {height}"), new XAttribute("role", "img"), new XAttribute("font-family", "system-ui, sans-serif"),
            new XAttribute("font-size", "14"),
            new XElement(Svg + "title", $"Funnel ({view.Model}), {view.From:yyyy-MM-dd} to {view.To:yyyy-MM-dd}"),
            new XElement(Svg + "text", new XAttribute("x", 0), new XAttribute("y", 20), new XAttribute("font-weight", "600"),
                $"{view.Model}: {view.From:yyyy-MM-dd} – {view.To:yyyy-MM-dd}{(view.Device is { } d ? ", " + d + " device" : "")}, {view.Customers.ToString("N0", CultureInfo.InvariantCulture)} customers"));
        for (var i = 0; i < view.Phases.Count; i++)
        {
            var p = view.Phases[i];
            var y = 36 + i * Row;
            var reached = (int)Math.Round(Bar * (double)p.Reached / max);
            var now = (int)Math.Round(Bar * (double)p.Now / max);
            svg.Add(
                new XElement(Svg + "g", new XAttribute("class", "phase"), new XAttribute("data-phase", p.Phase),
                    new XElement(Svg + "text", new XAttribute("x", 0), new XAttribute("y", y + 24), p.Phase),
                    new XElement(Svg + "rect", new XAttribute("x", Label), new XAttribute("y", y + 6), new XAttribute("width", Math.Max(1, reached)),
                        new XAttribute("height", 28), new XAttribute("fill", "#9ec5fe"), new XAttribute("rx", 3)),
                    new XElement(Svg + "rect", new XAttribute("x", Label), new XAttribute("y", y + 6), new XAttribute("width", now),
                        new XAttribute("height", 28), new XAttribute("fill", "#0d6efd"), new XAttribute("rx", 3)),
                    new XElement(Svg + "text", new XAttribute("x", Label + Math.Max(reached, now) + 8), new XAttribute("y", y + 24),
                        $"{p.Reached.ToString("N0", CultureInfo.InvariantCulture)} reached · {p.Now.ToString("N0", CultureInfo.InvariantCulture)} now" +
                        (p.ConversionRate is { } r ? $" · {r.ToString("P1", CultureInfo.InvariantCulture)} on" : ""))));
        }
        return svg.ToString(SaveOptions.DisableFormatting);
    }
}
