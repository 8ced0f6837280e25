using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary>
/// Everything a compiled condition may read: the contact, the event <c>properties.*</c> refer to (if any),
/// the caller's "now", and when the contact entered the trigger (for <c>since entry</c>).
/// Passed by reference; a struct so that evaluating a filter per counted event allocates nothing.
/// </summary>
readonly struct EvaluationScope(ContactSnapshot contact, RecordedEvent? @event, Instant now, Instant? entry)
{
    public ContactSnapshot Contact { get; } = contact;

    public RecordedEvent? Event { get; } = @event;

    public Instant Now { get; } = now;

    public Instant? Entry { get; } = entry;

    public EvaluationScope WithEvent(RecordedEvent @event) => new(Contact, @event, Now, Entry);

    public EvaluationScope ForSegment() => new(Contact, null, Now, null);
}

delegate bool ConditionFunc(in EvaluationScope scope);

delegate Value? OperandFunc(in EvaluationScope scope);
