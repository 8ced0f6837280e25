using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary>A named audience, ready to test contacts against.</summary>
public sealed class CompiledSegment
{
    readonly ConditionFunc _condition;

    internal CompiledSegment(string name, int line, IReadOnlyList<string> referencedSegments, SegmentReads reads, ConditionFunc condition)
    {
        Name = name;
        Line = line;
        ReferencedSegments = referencedSegments;
        Reads = reads;
        _condition = condition;
    }

    public string Name { get; }

    public int Line { get; }

    /// <summary>Segments this one is defined in terms of, directly.</summary>
    public IReadOnlyList<string> ReferencedSegments { get; }

    /// <summary>What the definition reads (referenced segments included), and when its answer can change by time alone.</summary>
    public SegmentReads Reads { get; }

    /// <summary>Whether the contact is in the segment at <paramref name="now"/>. Events after now are ignored;
    /// <c>context.*</c> reads the contact's latest context.</summary>
    public bool Contains(ContactSnapshot contact, Instant now) => _condition(new EvaluationScope(contact, null, now, null));
}
