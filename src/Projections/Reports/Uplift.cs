namespace EventSourcedJourneys.Projections.Reports;

/// <summary>
/// How much more often the contacts who were sent a trigger's message converted than its control group (docs/reports.md):
/// the treatment's conversion rate (messages sent that converted / messages sent) minus the control group's (withheld
/// messages followed by a conversion / messages withheld), and the same difference relative to the control group's rate.
/// Computed in decimal from the counts and rounded to <see cref="Decimals"/> places, halves away from zero.
/// </summary>
public sealed record Uplift(decimal? TreatmentConversionRate, decimal? ControlConversionRate, decimal? Difference, decimal? Relative, string? Note)
{
    public const int Decimals = 6;

    public const string NoControlGroup =
        "No message was withheld for a control group here, so there is nothing to compare with: uplift needs a trigger with a `control group` line.";

    public const string NothingSent = "No message was sent here, so the treatment group has no conversion rate to compare.";

    public static Uplift Of(long sent, long sentConverted, long withheld, long controlConverted)
    {
        decimal? treatment = sent == 0 ? null : (decimal)sentConverted / sent;
        decimal? control = withheld == 0 ? null : (decimal)controlConverted / withheld;
        if (treatment is not { } t || control is not { } c)
            return new Uplift(Round(treatment), Round(control), null, null, withheld == 0 ? NoControlGroup : NothingSent);
        return new Uplift(Round(t), Round(c), Round(t - c), c == 0 ? null : Round((t - c) / c),
            c == 0 ? "The control group did not convert, so the uplift relative to it is undefined." : null);
    }

    private static decimal? Round(decimal? value) => value is { } v ? decimal.Round(v, Decimals, MidpointRounding.AwayFromZero) : null;
}
