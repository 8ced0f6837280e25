using Wolverine.Tracking;

namespace EventSourcedJourneys.Tests.Infrastructure;

/// <summary>
/// A tracked-session condition: done once a message of type T has been handled successfully, its transaction
/// (events appended, cascading and scheduled messages stored) committed.
/// </summary>
public sealed class WaitForHandled<T> : ITrackedCondition
{
    private bool _seen;

    public void Record(EnvelopeRecord record)
    {
        // Events published from the store arrive wrapped in IEvent<T>.
        var message = record.Message is JasperFx.Events.IEvent e ? e.Data : record.Message;
        if (message is T && record.MessageEventType == MessageEventType.MessageSucceeded) _seen = true;
    }

    public bool IsCompleted() => _seen;
}
