using System.Globalization;
using System.Threading.RateLimiting;
using CampaignOrchestrator.Worker.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Worker.Security;

/// <summary>
/// Abuse limits with ASP.NET Core's rate limiter, per client address: the public endpoints (<see cref="Placements"/>,
/// <see cref="Unsubscribe"/>) and failed authentications (<see cref="UseFailedAuthenticationLimit"/>). Over a limit: 429
/// problem+json with <c>Retry-After</c> in seconds.
/// </summary>
internal static class RateLimits
{
    public const string Placements = "placements";
    public const string Unsubscribe = "unsubscribe";

    public static IHostApplicationBuilder AddRateLimits(this IHostApplicationBuilder builder)
    {
        var options = builder.BindValidated(RateLimitOptions.SectionName, new RateLimitOptionsValidator());
        builder.Services.AddSingleton(new FailedAuthentications(options.FailedAuthenticationsPerMinute));
        builder.Services.AddRateLimiter(r =>
        {
            r.AddPolicy(Placements, http => PerAddress(http, options.PlacementsPerSecond, TimeSpan.FromSeconds(1)));
            r.AddPolicy(Unsubscribe, http => PerAddress(http, options.UnsubscribePerMinute, TimeSpan.FromMinutes(1)));
            r.OnRejected = (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                return WriteTooManyAsync(context.HttpContext, retryAfter);
            };
        });
        return builder;
    }

    static RateLimitPartition<string> PerAddress(HttpContext http, int permits, TimeSpan window)
    {
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return permits == 0
            ? RateLimitPartition.GetNoLimiter(address)
            : RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = window, QueueLimit = 0 });
    }

    static async ValueTask WriteTooManyAsync(HttpContext http, TimeSpan retryAfter)
    {
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = $"Try again in {http.Response.Headers.RetryAfter} s" },
        });
    }

    /// <summary>
    /// Counts requests to any endpoint that needs a key (the API, <c>/metrics</c>, <c>/openapi</c>, the dashboard's data and
    /// picture) whose key is missing or unknown, per address, and a key that matches nothing wherever it is presented; an
    /// address past the limit gets 429 there until its window ends, before its key is even looked at. The webshop's banner
    /// reads count apart (<see cref="Scope"/>): a brute force on the operator API does not stop the same address's banners,
    /// nor the other way round.
    /// </summary>
    public static WebApplication UseFailedAuthenticationLimit(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            var limiter = http.RequestServices.GetRequiredService<FailedAuthentications>();
            var endpoint = http.GetEndpoint();
            var needsKey = endpoint is not null && endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is null;
            var result = http.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult;   // what UseAuthentication found
            if (!limiter.On || (!needsKey && result?.Failure is null))
            {
                await next(http);
                return;
            }
            var key = Scope(http) + "|" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            if (limiter.LockedOut(key, out var retryAfter))
            {
                await WriteTooManyAsync(http, retryAfter);
                return;
            }
            if (result?.Succeeded != true && !limiter.Count(key, out retryAfter))
            {
                await WriteTooManyAsync(http, retryAfter);
                return;
            }
            await next(http);
        });
        return app;
    }

    /// <summary>Which count a request's failures go to: the webshop's banner reads, or everything an operator uses.</summary>
    public static string Scope(HttpContext http) => http.Request.Path.StartsWithSegments("/api/placements") ? "placements" : "operator";

    /// <summary>Failed authentications per address in a fixed one-minute window.</summary>
    internal sealed class FailedAuthentications(int perMinute)
    {
        readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(address =>
            RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = Math.Max(1, perMinute), Window = TimeSpan.FromMinutes(1), QueueLimit = 0,
            }));

        public bool On => perMinute > 0;

        /// <summary>Whether <paramref name="address"/> used up its failures in this window.</summary>
        public bool LockedOut(string address, out TimeSpan retryAfter)
        {
            retryAfter = TimeSpan.FromMinutes(1);
            return _limiter.GetStatistics(address) is { CurrentAvailablePermits: 0 };
        }

        /// <summary>Counts one failure; false when it was one too many.</summary>
        public bool Count(string address, out TimeSpan retryAfter)
        {
            using var lease = _limiter.AttemptAcquire(address);
            retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
            return lease.IsAcquired;
        }
    }
}
