using NodaTime;

namespace EventSourcedJourneys.Dsl.Runtime;

/// <summary>Something a contact did, as rules see it: a name, when it happened, its properties and the
/// context it was sent with (device, OS, locale… as in the Segment spec).</summary>
public sealed record RecordedEvent(string Name, Instant Timestamp, ObjectValue Properties, ObjectValue Context)
{
    public RecordedEvent(string name, Instant timestamp)
        : this(name, timestamp, ObjectValue.Empty, ObjectValue.Empty)
    {
    }
}
