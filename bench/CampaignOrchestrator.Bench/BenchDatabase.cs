using Dapper;

namespace CampaignOrchestrator.Bench;

/// <summary>A throwaway store for one bench run: a PostgreSQL database of its own, or an SQLite file in <c>folder</c>.</summary>
public static class BenchDatabase
{
    /// <returns>The worker's connection string, and the PostgreSQL database to drop afterwards (null for SQLite).</returns>
    public static async Task<(string ConnectionString, string? PgDatabase)> CreateAsync(string provider, string postgres, string folder, string name)
    {
        if (provider != "Postgres")
            return ($"Data Source={Path.Combine(folder, name + ".db")}", null);
        var database = $"co_{name}_{Guid.NewGuid():N}"[..(name.Length + 12)];
        await using var admin = new Npgsql.NpgsqlConnection(postgres);
        await admin.OpenAsync();
        await admin.ExecuteAsync($"CREATE DATABASE {database}");
        return (new Npgsql.NpgsqlConnectionStringBuilder(postgres) { Database = database }.ConnectionString, database);
    }

    /// <summary>Deletes the folder of an SQLite bench store, unless BENCH_KEEP_DATABASE=1 (then says where it is).</summary>
    public static void DeleteFolder(string folder)
    {
        if (Environment.GetEnvironmentVariable("BENCH_KEEP_DATABASE") == "1")
        {
            Console.WriteLine($"  kept SQLite files in {folder}");
            return;
        }
        Directory.Delete(folder, true);
    }

    public static async Task DropAsync(string postgres, string? pgDatabase)
    {
        if (pgDatabase is null)
            return;
        // BENCH_KEEP_DATABASE=1: leave it for a look at its plans (psql), and say which it is.
        if (Environment.GetEnvironmentVariable("BENCH_KEEP_DATABASE") == "1")
        {
            Console.WriteLine($"  kept PostgreSQL database {pgDatabase}");
            return;
        }
        Npgsql.NpgsqlConnection.ClearAllPools();
        await using var admin = new Npgsql.NpgsqlConnection(postgres);
        await admin.OpenAsync();
        await admin.ExecuteAsync($"DROP DATABASE IF EXISTS {pgDatabase} WITH (FORCE)");
    }
}
