using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary><c>audience …</c>: who may receive the message, checked when it is about to go out.</summary>
public sealed class Audience
{
    readonly ConditionFunc _condition;

    internal Audience(IReadOnlyList<string> segments, ConditionFunc condition)
    {
        Segments = segments;
        _condition = condition;
    }

    /// <summary>Segments named in the audience condition.</summary>
    public IReadOnlyList<string> Segments { get; }

    /// <param name="entry">When the contact entered the trigger; <c>since entry</c> windows start there.</param>
    public bool Includes(ContactSnapshot contact, Instant now, Instant entry) =>
        _condition(new EvaluationScope(contact, null, now, entry));
}
