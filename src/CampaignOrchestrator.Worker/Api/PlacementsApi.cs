using CampaignOrchestrator.Infrastructure.Channels;

namespace CampaignOrchestrator.Worker.Api;

/// <summary>
/// <c>GET /api/placements/{id}?slot=</c>: the webshop's read of banners when it renders a page, with its own read-only key
/// (placement role), rate-limited apart; always an answer (a slot nobody assigned shows its default creative, an unknown
/// customer too).
/// </summary>
internal static class PlacementsApi
{
    public static async Task<IResult> GetAsync(string id, string? slot, PlacementQueries placements, CancellationToken ct)
    {
        if ((ApiParameters.Id("id", id) ?? (slot is null ? null : ApiParameters.Id("slot", slot))) is { } problem)
            return problem;
        var found = await placements.GetAsync(id, string.IsNullOrWhiteSpace(slot) ? null : slot, ct);
        return slot is null ? Results.Ok(new { id, placements = found }) : Results.Ok(found.Single());
    }
}
