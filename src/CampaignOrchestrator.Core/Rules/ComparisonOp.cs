namespace CampaignOrchestrator.Core.Rules;

/// <summary>The comparison operators of the rules language.</summary>
public enum ComparisonOp
{
    Eq, Ne, Gt, Gte, Lt, Lte, In, NotIn, Contains, Exists,
}
