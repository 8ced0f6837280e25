using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Projections.Funnels;

/// <summary>One event of a contact as a funnel sees it: the rules' view of it and its sequence in the store, which
/// breaks ties between equal event times (the one stored first comes first).</summary>
public sealed record FunnelEvent(long Sequence, RecordedEvent Event);

/// <summary>
/// The greedy match chain of one step-1 event: the event times of the steps reached, in order
/// (<see cref="Times"/>[0] is the step-1 event's). <see cref="Depth"/> is how many steps were reached.
/// </summary>
public sealed record FunnelChain(long Step1Sequence, IReadOnlyList<Instant> Times)
{
    public int Depth => Times.Count;

    public Instant Step1At => Times[0];
}

/// <summary>
/// The funnel semantics of docs/semantics.md ("Funnels"), as a pure function of one contact's events: events are
/// ordered by event time, then by store sequence; for each step-1 event, each later step is the first qualifying event
/// after the previous match, within the window (inclusive) from the step-1 event.
/// </summary>
public static class FunnelMatching
{
    public static IReadOnlyList<FunnelChain> Chains(CompiledFunnel funnel, IReadOnlyList<FunnelEvent> events)
    {
        var stepNames = funnel.Steps.Select(s => s.EventName).ToHashSet(StringComparer.Ordinal);
        var ordered = events.Where(e => stepNames.Contains(e.Event.Name))
            .OrderBy(e => e.Event.Timestamp).ThenBy(e => e.Sequence).ToArray();
        if (ordered.Length == 0) return [];

        // Filters see the event (properties, context) and the contact's events; traits are not part of a funnel
        // (they are today's values, which would make a past funnel change with every identify).
        var contact = new ContactSnapshot(ObjectValue.Empty, ObjectValue.Empty, ordered.Select(e => e.Event));
        var qualifying = funnel.Steps
            .Select(step => Enumerable.Range(0, ordered.Length)
                .Where(i => step.Matches(ordered[i].Event, contact, ordered[i].Event.Timestamp))
                .ToArray())
            .ToArray();

        var chains = new List<FunnelChain>(qualifying[0].Length);
        foreach (var start in qualifying[0])
        {
            var step1At = ordered[start].Event.Timestamp;
            var deadline = step1At + funnel.Within;
            var times = new List<Instant>(funnel.Steps.Count) { step1At };
            var previous = start;
            for (var step = 1; step < funnel.Steps.Count; step++)
            {
                var next = FirstAfter(qualifying[step], previous);
                if (next < 0 || ordered[next].Event.Timestamp > deadline) break;
                times.Add(ordered[next].Event.Timestamp);
                previous = next;
            }
            chains.Add(new FunnelChain(ordered[start].Sequence, times));
        }
        return chains;
    }

    /// <summary>The smallest index in <paramref name="sorted"/> greater than <paramref name="after"/>, or -1.</summary>
    private static int FirstAfter(int[] sorted, int after)
    {
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (sorted[middle] <= after) low = middle + 1;
            else high = middle;
        }
        return low < sorted.Length ? sorted[low] : -1;
    }
}
