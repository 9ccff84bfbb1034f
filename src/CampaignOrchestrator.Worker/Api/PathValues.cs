using Microsoft.AspNetCore.Http.Features;

namespace CampaignOrchestrator.Worker.Api;

/// <summary>
/// Ids in the path exactly as the client sent them. The wire contract allows <c>/</c> in ids (<c>tenant/42</c>); a client
/// sends it as <c>tenant%2F42</c>, and ASP.NET Core decodes every escape of the path except <c>%2F</c>, so the route value
/// would be <c>tenant%2F42</c> (and a literal <c>%2F</c> in an id, sent as <c>%252F</c>, would read the same). A route value
/// that still holds a <c>%</c> is therefore read again from the raw request target and unescaped once.
/// </summary>
internal static class PathValues
{
    /// <summary>Every string parameter of the endpoints that is a route value gets the id as sent.</summary>
    public static TBuilder DecodingPathValues<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilterFactory((factory, next) =>
        {
            var strings = factory.MethodInfo.GetParameters().Select((p, i) => (p, i)).Where(x => x.p.ParameterType == typeof(string))
                .Select(x => (x.p.Name, Index: x.i)).ToArray();
            if (strings.Length == 0)
                return next;
            return invocation =>
            {
                var http = invocation.HttpContext;
                foreach (var (name, index) in strings)
                    if (name is not null && http.Request.RouteValues.TryGetValue(name, out var value) && value is string s && s.Contains('%')
                        && invocation.Arguments[index] is string)
                        invocation.Arguments[index] = AsSent(http, s);
                return next(invocation);
            };
        });

    /// <summary>The path segment that reads <paramref name="routeValue"/>, unescaped from the raw request target.</summary>
    internal static string AsSent(HttpContext http, string routeValue)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || !raw.StartsWith('/'))
            return routeValue;
        var end = raw.IndexOfAny(['?', '#']);
        var rawSegments = (end < 0 ? raw : raw[..end]).Split('/');
        var segments = (http.Request.PathBase + http.Request.Path).Value!.Split('/');
        // Both split on the same slashes (an encoded one is in neither); compared from the end, a path base is no matter.
        for (var i = 1; i <= Math.Min(rawSegments.Length, segments.Length); i++)
            if (segments[^i] == routeValue)
                return Uri.UnescapeDataString(rawSegments[^i]);
        return routeValue;
    }
}
