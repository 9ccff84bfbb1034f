using CampaignOrchestrator.Core.Campaigns;

namespace CampaignOrchestrator.Infrastructure.Actions;

/// <summary>What a batch does to actions, written with the journey changes in the same transaction.</summary>
/// <param name="Actions">New steps; an instance that an exit already ended is written cancelled.</param>
/// <param name="Logs">Outcome-log rows of the steps written cancelled at once (their <c>action_seq</c> is filled in on insert).</param>
/// <param name="Exits">The batch's exits that can end something.</param>
internal sealed record ActionWrites(IReadOnlyList<ActionRow> Actions, IReadOnlyList<ActionLogRow> Logs, IReadOnlyList<CampaignExit> Exits)
{
    public static ActionWrites None { get; } = new([], [], []);

    public bool IsEmpty => Actions.Count == 0 && Exits.Count == 0;
}
