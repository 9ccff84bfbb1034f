using System.Data.Common;
using CampaignOrchestrator.Infrastructure.Storage;
using Dapper;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// A device merged into a customer brings what the channels keep of it: its banners (per slot the newest wins), its
/// offers and its audience memberships (unless the customer is in that audience already). A stage of the journey
/// transaction: PostgreSQL gets statements of the batch's final command, SQLite runs them at once.
/// </summary>
internal static class ChannelMerges
{
    static readonly string PlacementColumns = string.Join(", ", BannerChannel.Columns);
    static readonly string PlacementValues = string.Join(", ", BannerChannel.Columns.Skip(1).Select(c => "p." + c));

    public static async Task WriteAsync(SqlBatch final, DbConnection connection, DbTransaction tx, SqlDialect sql, IReadOnlyList<(string From, string Into)> merges,
        CancellationToken ct)
    {
        if (merges.Count == 0)
            return;
        if (sql.Provider == StorageProvider.Postgres)
        {
            final.Append(
                // One row per customer and slot in the statement.
                $"INSERT INTO placements ({PlacementColumns}) SELECT DISTINCT ON (m.into_id, p.slot) m.into_id, {PlacementValues} " +
                "FROM placements p JOIN unnest(@cmf::text[], @cmi::text[]) AS m(from_id, into_id) ON p.profile_id = m.from_id " +
                $"ORDER BY m.into_id, p.slot, p.assigned_at DESC {BannerChannel.Upsert};" +
                "DELETE FROM placements WHERE profile_id = ANY(@cmf);" +
                "UPDATE offers SET profile_id = m.into_id FROM unnest(@cmf::text[], @cmi::text[]) AS m(from_id, into_id) WHERE offers.profile_id = m.from_id;" +
                "UPDATE audience_members AS a SET profile_id = m.into_id FROM unnest(@cmf::text[], @cmi::text[]) AS m(from_id, into_id) WHERE a.profile_id = m.from_id " +
                "AND NOT EXISTS (SELECT 1 FROM audience_members b WHERE b.audience = a.audience AND b.profile_id = m.into_id);" +
                "DELETE FROM audience_members WHERE profile_id = ANY(@cmf);");
            final.Add("cmf", merges.Select(m => m.From).ToArray()).Add("cmi", merges.Select(m => m.Into).ToArray());
            return;
        }
        foreach (var (from, into) in merges)
            await connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO placements ({PlacementColumns}) SELECT @into, {PlacementValues} FROM placements p WHERE p.profile_id = @from {BannerChannel.Upsert}; " +
                "DELETE FROM placements WHERE profile_id = @from; UPDATE offers SET profile_id = @into WHERE profile_id = @from; " +
                "UPDATE OR IGNORE audience_members SET profile_id = @into WHERE profile_id = @from; DELETE FROM audience_members WHERE profile_id = @from;",
                new { from, into }, tx, cancellationToken: ct));
    }
}
