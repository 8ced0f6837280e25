using EventSourcedJourneys.Dsl.Runtime;

namespace EventSourcedJourneys.Domain.Delivery;

/// <summary>
/// An event of the contact's own doing (a tracked event, a page or screen view, a delivery receipt) as the rules
/// read it: its name, its own time, its properties and context. Ingested events implement it so that triggers,
/// exception events and segments see them.
/// </summary>
public interface IContactActivity
{
    RecordedEvent ToRecorded();
}
