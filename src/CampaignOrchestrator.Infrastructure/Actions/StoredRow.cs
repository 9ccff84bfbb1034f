namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>
/// A row a channel keeps of a delivery (a placement, an offer, an audience membership, a connector's change), inserted
/// or deleted by the dispatcher with the outcome. Rows of the same table, operation, columns and conflict clause are
/// written in one statement; of those with the same <see cref="Key"/> in one poll the last (in the order judged) is kept.
/// Values: strings, numbers, booleans, UTC timestamps.
/// </summary>
/// <param name="OnConflict">An insert's <c>ON CONFLICT</c> clause.</param>
/// <param name="Key">Rows that one statement may not both touch (the same slot of the same customer).</param>
public sealed record StoredRow(string Table, IReadOnlyList<string> Columns, object?[] Values, string OnConflict = "", string? Key = null)
{
    /// <summary>True: delete the rows whose <see cref="Columns"/> equal <see cref="Values"/>.</summary>
    public bool IsDelete { get; init; }

    /// <summary>A row to delete where every one of <paramref name="columns"/> has its value.</summary>
    public static StoredRow Delete(string table, IReadOnlyList<string> columns, params object?[] values) => new(table, columns, values) { IsDelete = true };
}
