using NodaTime;

namespace EventSourcedJourneys.Dsl.Ast;

public enum DurationUnit
{
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
}

/// <summary>A written duration such as <c>30m</c>; the unit is kept so the formatter prints what was written.</summary>
public sealed record DurationLiteral(long Amount, DurationUnit Unit)
{
    public Duration ToDuration() => Unit switch
    {
        DurationUnit.Seconds => Duration.FromSeconds(Amount),
        DurationUnit.Minutes => Duration.FromMinutes(Amount),
        DurationUnit.Hours => Duration.FromHours(Amount),
        DurationUnit.Days => Duration.FromDays(Amount),
        _ => Duration.FromDays(Amount * 7),
    };

    public long TotalSeconds => Amount * Unit switch
    {
        DurationUnit.Seconds => 1L,
        DurationUnit.Minutes => 60L,
        DurationUnit.Hours => 3_600L,
        DurationUnit.Days => 86_400L,
        _ => 604_800L,
    };
}

/// <summary>A written percentage such as <c>10%</c> or <c>12.5%</c>, as written (range and decimals are the checker's).</summary>
public sealed record PercentLiteral(decimal Value);

/// <summary><c>3 per 1d</c></summary>
public sealed record CapLiteral(long Count, DurationLiteral Per);

/// <summary>Which clock a time of day is read on: the contact's own time zone, or the workspace's.</summary>
public enum ZoneReference
{
    Local,
    Workspace,
}

/// <summary>A daily range such as <c>09:00 and 21:00 local</c>; it may wrap past midnight.</summary>
public sealed record TimeOfDayRange(LocalTime From, LocalTime To, ZoneReference Zone);
