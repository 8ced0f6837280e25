using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using EventSourcedJourneys.Projections.Funnels;
using NodaTime;

namespace EventSourcedJourneys.Tests.Funnels;

/// <summary>The matching rules of docs/semantics.md ("Funnels") on one contact, as a pure function: no database.</summary>
public sealed class when_matching_funnel_steps
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 11, 12, 10, 0);

    private static CompiledFunnel Funnel(string text) =>
        RuleCompiler.Compile(text).Document?.Funnels.Single() ?? throw new InvalidOperationException(text);

    private static FunnelEvent E(long sequence, string name, int minutes, decimal? total = null) =>
        new(sequence, new RecordedEvent(name, T0 + Duration.FromMinutes(minutes),
            total is null ? ObjectValue.Empty : Value.Object(("total", Value.Of(total.Value))), ObjectValue.Empty));

    private static string Describe(IReadOnlyList<FunnelChain> chains) =>
        string.Join(" | ", chains.Select(c => $"{c.Step1Sequence}:{string.Join(",", c.Times.Select(t => (t - T0).TotalMinutes))}"));

    [Fact]
    public void events_of_the_same_time_are_ordered_by_their_sequence_in_the_store()
    {
        var funnel = Funnel("""funnel f = event "a" -> event "b" within 1h""");
        // b stored after a at the same instant comes after it; b stored before a does not.
        Assert.Equal("1:0,0", Describe(FunnelMatching.Chains(funnel, [E(1, "a", 0), E(2, "b", 0)])));
        Assert.Equal("2:0", Describe(FunnelMatching.Chains(funnel, [E(1, "b", 0), E(2, "a", 0)])));
    }

    [Fact]
    public void the_window_counts_from_the_first_step_and_includes_its_end()
    {
        var funnel = Funnel("""funnel f = event "a" -> event "b" -> event "c" within 1h""");
        Assert.Equal("1:0,30,60", Describe(FunnelMatching.Chains(funnel, [E(1, "a", 0), E(2, "b", 30), E(3, "c", 60)])));
        Assert.Equal("1:0,30", Describe(FunnelMatching.Chains(funnel, [E(1, "a", 0), E(2, "b", 30), E(3, "c", 61)])));
    }

    [Fact]
    public void each_later_step_is_the_earliest_qualifying_event_after_the_previous_match()
    {
        var funnel = Funnel("""funnel f = event "a" -> event "b" where properties.total > 50 -> event "c" within 1d""");
        // The first b does not qualify; the earliest qualifying one is at 20; c at 10 is before it, c at 30 after.
        var chains = FunnelMatching.Chains(funnel,
            [E(5, "c", 10), E(1, "a", 0), E(2, "b", 5, total: 10), E(3, "b", 20, total: 60), E(4, "b", 25, total: 90), E(6, "c", 30)]);
        Assert.Equal("1:0,20,30", Describe(chains));
    }

    [Fact]
    public void every_step_1_event_starts_its_own_chain_and_one_event_is_never_two_steps()
    {
        var funnel = Funnel("""funnel f = event "a" -> event "a" within 1d""");
        Assert.Equal("1:0", Describe(FunnelMatching.Chains(funnel, [E(1, "a", 0)])));
        Assert.Equal("1:0,5 | 2:5", Describe(FunnelMatching.Chains(funnel, [E(1, "a", 0), E(2, "a", 5)])));
    }

    [Fact]
    public void arrival_order_does_not_matter_only_event_time_and_sequence_do()
    {
        var funnel = Funnel("""funnel f = event "a" -> event "b" -> event "c" within 1d""");
        FunnelEvent[] events = [E(1, "a", 0), E(2, "c", 50), E(3, "b", 60), E(4, "b", 10), E(5, "x", 20)];
        var expected = Describe(FunnelMatching.Chains(funnel, events));
        Assert.Equal("1:0,10,50", expected);
        Assert.Equal(expected, Describe(FunnelMatching.Chains(funnel, events.Reverse().ToArray())));
    }
}
