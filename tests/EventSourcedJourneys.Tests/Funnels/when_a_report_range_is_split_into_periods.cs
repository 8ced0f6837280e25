using EventSourcedJourneys.Projections.Funnels;
using NodaTime;

namespace EventSourcedJourneys.Tests.Funnels;

/// <summary>The period split behind fast reports (ADR 0013), as pure functions: a range becomes whole UTC periods plus
/// the partial days at its ends, and the best of the periods' best chains is the best chain of the range.</summary>
public sealed class when_a_report_range_is_split_into_periods
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 11, 12, 10, 0);

    private static string Describe(IReadOnlyList<FunnelRangePart> parts) =>
        string.Join(" | ", parts.Select(p => $"{p.Kind?.ToString() ?? "Chains"} {Text(p.From)}..{Text(p.To)}"));

    private static string Text(Instant at) =>
        at == FunnelPeriods.Beginning ? "-" : at == FunnelPeriods.End ? "+" : at.ToString("uuuu-MM-dd'T'HH:mm", null);

    [Fact]
    public void the_whole_history_is_one_period()
    {
        var parts = FunnelPeriods.Cover(null, null);
        Assert.Equal("All -..+", Describe(parts));
        Assert.True(Assert.Single(parts).IsSinglePeriod);
    }

    [Fact]
    public void whole_periods_are_read_as_the_coarsest_that_fit_and_partial_days_from_the_chains()
    {
        Assert.Equal("Day 2026-11-12T00:00..2026-11-13T00:00",
            Describe(FunnelPeriods.Cover(Instant.FromUtc(2026, 11, 12, 0, 0), Instant.FromUtc(2026, 11, 13, 0, 0))));
        Assert.Equal("Month 2026-11-01T00:00..2026-12-01T00:00",
            Describe(FunnelPeriods.Cover(Instant.FromUtc(2026, 11, 1, 0, 0), Instant.FromUtc(2026, 12, 1, 0, 0))));
        Assert.Equal(
            "Chains 2026-10-30T07:30..2026-10-31T00:00 | Day 2026-10-31T00:00..2026-11-01T00:00 | " +
            "Month 2026-11-01T00:00..2027-01-01T00:00 | Year 2027-01-01T00:00..2028-01-01T00:00 | " +
            "Month 2028-01-01T00:00..2028-02-01T00:00 | Day 2028-02-01T00:00..2028-02-03T00:00 | Chains 2028-02-03T00:00..2028-02-03T13:00",
            Describe(FunnelPeriods.Cover(Instant.FromUtc(2026, 10, 30, 7, 30), Instant.FromUtc(2028, 2, 3, 13, 0))));
        Assert.Equal("Chains 2026-11-12T07:30..2026-11-12T13:00",
            Describe(FunnelPeriods.Cover(Instant.FromUtc(2026, 11, 12, 7, 30), Instant.FromUtc(2026, 11, 12, 13, 0))));
    }

    [Fact]
    public void an_open_end_reads_every_year_on_that_side()
    {
        Assert.Equal("Year -..2026-01-01T00:00 | Month 2026-01-01T00:00..2026-11-01T00:00 | Day 2026-11-01T00:00..2026-11-12T00:00 | " +
                     "Chains 2026-11-12T00:00..2026-11-12T10:00",
            Describe(FunnelPeriods.Cover(null, T0)));
        Assert.Equal("Chains 2026-11-12T10:00..2026-11-13T00:00 | Day 2026-11-13T00:00..2026-12-01T00:00 | " +
                     "Month 2026-12-01T00:00..2027-01-01T00:00 | Year 2027-01-01T00:00..+",
            Describe(FunnelPeriods.Cover(T0, null)));
        Assert.Empty(FunnelPeriods.Cover(T0, T0));
    }

    [Fact]
    public void every_instant_of_a_range_is_read_by_exactly_one_part_and_no_other_instant_by_any()
    {
        var random = new Random(20261125);
        var span = Duration.FromDays(800);
        var origin = Instant.FromUtc(2025, 12, 1, 0, 0);
        for (var round = 0; round < 500; round++)
        {
            Instant? from = random.Next(8) == 0 ? null : origin + Random(random, span);
            Instant? to = random.Next(8) == 0 ? null : (from ?? origin) + Random(random, span);
            var parts = FunnelPeriods.Cover(from, to);
            for (var probe = 0; probe < 200; probe++)
            {
                var at = origin - Duration.FromDays(100) + Random(random, span + Duration.FromDays(1000));
                var inside = (from is null || at >= from) && (to is null || at < to);
                var readers = parts.Count(p => Reads(p, at));
                Assert.True(readers == (inside ? 1 : 0), $"{at} in [{from}, {to}) is read by {readers} of: {Describe(parts)}");
            }
        }
    }

    [Fact]
    public void the_best_of_the_periods_best_chains_is_the_best_chain_of_the_range()
    {
        var random = new Random(7);
        var origin = Instant.FromUtc(2026, 12, 20, 0, 0);
        for (var round = 0; round < 300; round++)
        {
            // Step-1 times on a coarse grid (ties), sequences in store order, depths 1-3.
            var chains = Enumerable.Range(0, random.Next(1, 30)).Select(i =>
            {
                var at = origin + Duration.FromHours(random.Next(0, 24 * 60) / 6 * 6);
                var depth = random.Next(1, 4);
                return new FunnelChain(1000 + i, Enumerable.Range(0, depth).Select(k => at + Duration.FromMinutes(k * 10)).ToList());
            }).ToList();
            var best = FunnelPeriods.Best(chains);
            Assert.Single(best, b => b.Kind == FunnelPeriodKind.All);
            Assert.Equal(best.Count, best.Select(b => (b.Kind, b.Start)).Distinct().Count());

            Instant? from = random.Next(6) == 0 ? null : origin + Duration.FromMinutes(random.Next(0, 60 * 24 * 60));
            Instant? to = random.Next(6) == 0 ? null : (from ?? origin) + Duration.FromMinutes(random.Next(0, 60 * 24 * 60));
            var inRange = chains.Where(c => (from is null || c.Step1At >= from) && (to is null || c.Step1At < to)).ToList();
            var expected = inRange.Count == 0 ? null : inRange.Aggregate((a, b) => FunnelPeriods.IsBetter(b, a) ? b : a);

            var candidates = FunnelPeriods.Cover(from, to).SelectMany(part => part.Kind is null
                ? chains.Where(c => c.Step1At >= part.From && c.Step1At < part.To)
                : best.Where(b => b.Kind == part.Kind && b.Start >= part.From && b.Start < part.To).Select(b => b.Chain)).ToList();
            var actual = candidates.Count == 0 ? null : candidates.Aggregate((a, b) => FunnelPeriods.IsBetter(b, a) ? b : a);
            Assert.Equal(expected?.Step1Sequence, actual?.Step1Sequence);
        }
    }

    [Fact]
    public void the_better_chain_is_deeper_then_earlier_then_stored_first()
    {
        FunnelChain Chain(long sequence, int minutes, int depth) =>
            new(sequence, Enumerable.Range(0, depth).Select(k => T0 + Duration.FromMinutes(minutes + k)).ToList());
        Assert.True(FunnelPeriods.IsBetter(Chain(2, 60, 2), Chain(1, 0, 1)));
        Assert.True(FunnelPeriods.IsBetter(Chain(2, 0, 2), Chain(1, 60, 2)));
        Assert.True(FunnelPeriods.IsBetter(Chain(1, 0, 2), Chain(2, 0, 2)));
        Assert.False(FunnelPeriods.IsBetter(Chain(2, 0, 2), Chain(1, 0, 2)));
    }

    private static bool Reads(FunnelRangePart part, Instant at) => part.Kind is { } kind
        ? FunnelPeriods.Start(kind, at) >= part.From && FunnelPeriods.Start(kind, at) < part.To
        : at >= part.From && at < part.To;

    private static Duration Random(Random random, Duration within) =>
        Duration.FromMinutes(random.NextInt64(0, (long)within.TotalMinutes)) + (random.Next(3) == 0 ? Duration.Zero : Duration.FromSeconds(random.Next(60)));
}
