using NodaTime;

namespace EventSourcedJourneys.Projections.Funnels;

/// <summary>Calendar periods in UTC for which each contact's best chain is kept (ADR 0013). <see cref="All"/> is the
/// whole history: one period that starts at <see cref="FunnelPeriods.Beginning"/>.</summary>
public enum FunnelPeriodKind : short
{
    Day = 1,
    Month = 2,
    Year = 3,
    All = 4,
}

/// <summary>One contact's best chain among its step-1 events in one period.</summary>
public sealed record FunnelPeriodBest(FunnelPeriodKind Kind, Instant Start, FunnelChain Chain);

/// <summary>A report's range split into what it reads: whole periods of one kind whose starts lie in
/// [<see cref="From"/>, <see cref="To"/>) from the period rows, or (<see cref="Kind"/> null) the step-1 events in
/// [<see cref="From"/>, <see cref="To"/>) from the chains.</summary>
public sealed record FunnelRangePart(FunnelPeriodKind? Kind, Instant From, Instant To)
{
    /// <summary>Exactly one period: its rows hold at most one chain per contact.</summary>
    public bool IsSinglePeriod => Kind is { } kind && (kind == FunnelPeriodKind.All || FunnelPeriods.Next(kind, From) == To);
}

/// <summary>
/// The best chain over a union of periods is the best of the periods' best chains (deepest, then earliest step-1 event,
/// then first stored: a total order), so a report over whole periods can read one row per contact and period instead
/// of one per step-1 event, and the chains only for the partial days at its ends.
/// </summary>
public static class FunnelPeriods
{
    /// <summary>Where the report's open ends lie and where the <see cref="FunnelPeriodKind.All"/> period starts.</summary>
    public static readonly Instant Beginning = Instant.FromUtc(1, 1, 1, 0, 0);
    public static readonly Instant End = Instant.FromUtc(9999, 1, 1, 0, 0);

    private static readonly FunnelPeriodKind[] Calendar = [FunnelPeriodKind.Day, FunnelPeriodKind.Month, FunnelPeriodKind.Year];

    /// <summary>Whether <paramref name="a"/> is a better chain than <paramref name="b"/> (docs/semantics.md, "Funnels").</summary>
    public static bool IsBetter(FunnelChain a, FunnelChain b) =>
        a.Depth != b.Depth ? a.Depth > b.Depth
        : Stored(a.Step1At) != Stored(b.Step1At) ? Stored(a.Step1At) < Stored(b.Step1At)
        : a.Step1Sequence < b.Step1Sequence;

    // Step-1 times are compared as the tables store them (microseconds), like the report's own ordering.
    private static long Stored(Instant at) => FunnelStore.Microseconds(at);

    /// <summary>The contact's best chain in every period (of every kind) that holds at least one of its step-1 events.</summary>
    public static IReadOnlyList<FunnelPeriodBest> Best(IReadOnlyList<FunnelChain> chains)
    {
        var best = new Dictionary<(FunnelPeriodKind, Instant), FunnelChain>();
        foreach (var chain in chains)
        {
            foreach (var kind in Calendar) Keep((kind, Start(kind, chain.Step1At)), chain);
            Keep((FunnelPeriodKind.All, Beginning), chain);
        }
        return best.Select(b => new FunnelPeriodBest(b.Key.Item1, b.Key.Item2, b.Value))
            .OrderBy(b => b.Kind).ThenBy(b => b.Start).ToList();

        void Keep((FunnelPeriodKind, Instant) period, FunnelChain chain)
        {
            if (!best.TryGetValue(period, out var current) || IsBetter(chain, current)) best[period] = chain;
        }
    }

    /// <summary>The start of the period of this kind that holds <paramref name="at"/>.</summary>
    public static Instant Start(FunnelPeriodKind kind, Instant at)
    {
        var date = at.InUtc().Date;
        return kind switch
        {
            FunnelPeriodKind.Day => date.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant(),
            FunnelPeriodKind.Month => new LocalDate(date.Year, date.Month, 1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant(),
            FunnelPeriodKind.Year => new LocalDate(date.Year, 1, 1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant(),
            _ => Beginning,
        };
    }

    /// <summary>The start of the next period of this kind after the one starting at <paramref name="start"/>.</summary>
    public static Instant Next(FunnelPeriodKind kind, Instant start)
    {
        var date = start.InUtc().Date;
        return kind switch
        {
            FunnelPeriodKind.Day => start + Duration.FromDays(1),
            FunnelPeriodKind.Month => date.PlusMonths(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant(),
            FunnelPeriodKind.Year => date.PlusYears(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant(),
            _ => End,
        };
    }

    /// <summary>
    /// Splits a report's range [from, to) (open ends: the whole history on that side) into the fewest reads: the
    /// coarsest whole periods that fit, finer ones towards the ends, and the chains of the partial days at the ends.
    /// The parts are disjoint and together hold exactly the step-1 events in the range.
    /// </summary>
    public static IReadOnlyList<FunnelRangePart> Cover(Instant? from, Instant? to)
    {
        var low = from is { } f && f > Beginning ? f : Beginning;
        var high = to is { } t && t < End ? t : End;
        if (low >= high) return [];
        if (low == Beginning && high == End) return [new FunnelRangePart(FunnelPeriodKind.All, Beginning, End)];
        var parts = new List<FunnelRangePart>();
        Split(low, high, Calendar.Length - 1);
        return parts.OrderBy(p => p.From).ToList();

        void Split(Instant lo, Instant hi, int level)
        {
            if (lo >= hi) return;
            if (level < 0)
            {
                parts.Add(new FunnelRangePart(null, lo, hi));
                return;
            }
            var kind = Calendar[level];
            var first = Ceiling(kind, lo);
            var last = Floor(kind, hi);
            if (first < last)
            {
                parts.Add(new FunnelRangePart(kind, first, last));
                Split(lo, first, level - 1);
                Split(last, hi, level - 1);
            }
            else
            {
                Split(lo, hi, level - 1);
            }
        }
    }

    // The open ends are period boundaries of every kind, so whole-history sides read whole years.
    private static Instant Floor(FunnelPeriodKind kind, Instant at) => at == End || at == Beginning ? at : Start(kind, at);

    private static Instant Ceiling(FunnelPeriodKind kind, Instant at)
    {
        if (at == End || at == Beginning) return at;
        var start = Start(kind, at);
        return start == at ? at : Next(kind, start);
    }
}
