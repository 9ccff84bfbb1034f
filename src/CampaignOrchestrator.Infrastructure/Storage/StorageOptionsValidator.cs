using Microsoft.Extensions.Options;

namespace CampaignOrchestrator.Infrastructure.Storage;

/// <summary>Fails the start with the key that is wrong.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Provider))
            failures.Add($"Storage:Provider must be Sqlite or Postgres, was '{options.Provider}'");
        if (options.ProfileCacheSize is < 0 or > 10_000_000)
            failures.Add($"Storage:ProfileCacheSize must be 0-10000000, was {options.ProfileCacheSize}");
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            failures.Add("Storage:ConnectionString is required");
        else
        {
            try
            {
                _ = options.Provider == StorageProvider.Postgres
                    ? (System.Data.Common.DbConnectionStringBuilder)new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString)
                    : new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(options.ConnectionString);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
            {
                failures.Add($"Storage:ConnectionString is not a valid {options.Provider} connection string: {ex.Message}");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
