namespace CampaignOrchestrator.Core.Channels;

/// <summary>The kinds of action the rules know (docs/rules.md "Actions"), each described once.</summary>
public static class ChannelKinds
{
    public static readonly ChannelKind Email = new()
    {
        Name = "email",
        Summary = "an email from a template, in the customer's locale",
        Required = ["template"],
        Optional = ["from", "replyTo"],
        IsMessage = true,
        ConsentTraits = ["emailConsent"],
        Suppression = SuppressionScope.Address,
    };

    public static readonly ChannelKind Banner = new()
    {
        Name = "banner",
        Summary = "a banner in a slot of the shop's pages, read by the shop (placements)",
        Required = ["slot", "creative"],
        Optional = ["ttl"],
        Durations = ["ttl"],
    };

    public static readonly ChannelKind Offer = new()
    {
        Name = "offer",
        Summary = "a discount code, sent by email when it names a template",
        Required = ["validFor"],
        Optional = ["discountPercent", "amount", "template"],
        Durations = ["validFor"],
        SentAs = settings => settings.ContainsKey("template") ? Email : null,
    };

    public static readonly ChannelKind Retargeting = new()
    {
        Name = "retargeting",
        Summary = "membership of an ad platform's audience, matched by the hashed address",
        Required = ["audience"],
        ConsentTraits = ["adConsent", "emailConsent"],
    };

    public static readonly ChannelKind Webhook = new()
    {
        Name = "webhook",
        Summary = "a signed POST to an address of the shop's",
        Required = ["url", "secret"],
    };

    public static readonly ChannelKind Phase = new()
    {
        Name = "phase",
        Summary = "sets the customer's phase (reaches nobody)",
        Required = ["set"],
        ReachesCustomer = false,
    };

    /// <summary>Every kind, in the order the docs list them.</summary>
    public static readonly IReadOnlyList<ChannelKind> All = [Email, Banner, Offer, Retargeting, Webhook, Phase];

    /// <summary>The channels a frequency cap may count: the kinds that reach the customer.</summary>
    public static readonly IReadOnlyList<string> Capped = [.. All.Where(k => k.ReachesCustomer).Select(k => k.Name)];

    /// <summary>The kind named <paramref name="name"/>, or null.</summary>
    public static ChannelKind? Find(string name)
    {
        foreach (var kind in All)
            if (kind.Name == name)
                return kind;
        return null;
    }

    /// <summary>The kind named <paramref name="name"/>; a name no rules file can give is a bug.</summary>
    public static ChannelKind Of(string name) => Find(name) ?? throw new ArgumentException($"no channel kind '{name}'", nameof(name));
}
