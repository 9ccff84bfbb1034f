namespace CampaignOrchestrator.Core.Results;

/// <summary>
/// A campaign's lift over its holdout: the conversion rates of the customers who got it and of the holdout from the same
/// trigger, their difference with a 95 % confidence interval by Newcombe's hybrid score method (his method 10: Wilson
/// score intervals for each rate, combined; Newcombe 1998, Statistics in Medicine 17:873-890), which keeps its coverage
/// at small counts and rates near 0 where the normal approximation does not, and the relative lift.
/// </summary>
public static class Lift
{
    /// <summary>The normal quantile for a two-sided 95 % interval.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>Fewer customers than this in either group: no verdict, whatever the interval says.</summary>
    public const int MinGroupSize = 30;

    /// <param name="converted">Customers who got the campaign and converted within the goal's window.</param>
    /// <param name="treated">Customers who got the campaign.</param>
    /// <param name="holdoutConverted">Holdout customers who converted within the same window.</param>
    /// <param name="holdout">Customers held out.</param>
    /// <param name="against">What the second group is, in reasons: the holdout, or another variant ("variant 1") for an A/B comparison.</param>
    public static LiftResult Compare(long converted, long treated, long holdoutConverted, long holdout, string against = "holdout")
    {
        if (converted < 0 || treated < 0 || holdoutConverted < 0 || holdout < 0 || converted > treated || holdoutConverted > holdout)
            throw new ArgumentOutOfRangeException(nameof(converted), $"counts must satisfy 0 <= converted <= group size (got {converted}/{treated}, {holdoutConverted}/{holdout})");
        var p1 = treated == 0 ? 0 : (double)converted / treated;
        var p2 = holdout == 0 ? 0 : (double)holdoutConverted / holdout;
        double? relative = holdout == 0 || holdoutConverted == 0 ? null : p1 / p2 - 1;
        // Without a group to compare with there is no lift: the rate alone is not one (it is shown as the conversion rate).
        if (treated == 0 || holdout == 0)
            return new LiftResult(p1, p2, null, null, null, null, false,
                treated == 0 ? "no customer got the campaign in the period"
                : against == "holdout" ? "no holdout in the period: give the campaign one (holdout: 10%) to measure its lift"
                : $"no customer got {against} in the period");
        var (l1, u1) = Wilson(converted, treated);
        var (l2, u2) = Wilson(holdoutConverted, holdout);
        var difference = p1 - p2;
        var lower = Math.Max(-1, difference - Math.Sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)));
        var upper = Math.Min(1, difference + Math.Sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)));
        string? reason = null;
        if (treated < MinGroupSize || holdout < MinGroupSize)
            reason = against == "holdout"
                ? $"groups too small: {treated} got the campaign and {holdout} were held out; at least {MinGroupSize} in each"
                : $"groups too small: {treated} and {holdout} ({against}) customers; at least {MinGroupSize} in each";
        else if (lower <= 0 && upper >= 0)
            reason = "the 95 % interval of the difference includes 0";
        return new LiftResult(p1, p2, difference, relative, lower, upper, reason is null, reason);
    }

    /// <summary>The Wilson score interval of <paramref name="successes"/> out of <paramref name="n"/> (n &gt; 0), at 95 %.</summary>
    public static (double Lower, double Upper) Wilson(long successes, long n)
    {
        if (n <= 0)
            throw new ArgumentOutOfRangeException(nameof(n), "the group is empty");
        var p = (double)successes / n;
        var z2 = Z95 * Z95;
        var denominator = 1 + z2 / n;
        var centre = (p + z2 / (2 * n)) / denominator;
        var half = Z95 * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denominator;
        // At 0 and n successes the bound is exactly 0 or 1 (rounding would otherwise leave a hair either side).
        return (successes == 0 ? 0 : Math.Max(0, centre - half), successes == n ? 1 : Math.Min(1, centre + half));
    }
}

/// <summary>
/// The comparison of a campaign with its holdout: conversion rates, absolute lift (<see cref="Difference"/>, with its 95 %
/// interval when both groups have customers), relative lift (null when the holdout has no conversion), and whether
/// the lift is significant, with the reason when it is not.
/// </summary>
public sealed record LiftResult(double ConversionRate, double HoldoutConversionRate, double? Difference, double? Relative,
    double? Lower, double? Upper, bool Significant, string? Reason);
