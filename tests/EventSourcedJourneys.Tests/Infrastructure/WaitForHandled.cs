using Wolverine.Tracking;

namespace EventSourcedJourneys.Tests.Infrastructure;

/// <summary>
/// A tracked-session condition: done once a message of type T has been handled successfully, its transaction
/// (events appended, cascading and scheduled messages stored) committed.
/// </summary>
/// <remarks>Give <paramref name="matches"/> when an earlier step's T may still be on its way (events are relayed from the
/// store asynchronously), so that the wait is for this step's own message.</remarks>
public sealed class WaitForHandled<T>(Func<T, bool>? matches = null) : ITrackedCondition
{
    private bool _seen;

    public void Record(EnvelopeRecord record)
    {
        // Events published from the store arrive wrapped in IEvent<T>.
        var message = record.Message is JasperFx.Events.IEvent e ? e.Data : record.Message;
        if (message is T handled && record.MessageEventType == MessageEventType.MessageSucceeded && (matches?.Invoke(handled) ?? true))
            _seen = true;
    }

    public bool IsCompleted() => _seen;
}

/// <summary>A tracked-session condition: done once a message of type T has been sent (stored durably, for a delayed
/// message, until it falls due).</summary>
public sealed class WaitForSent<T> : ITrackedCondition
{
    private bool _seen;

    public void Record(EnvelopeRecord record)
    {
        if (record.Message is T && record.MessageEventType == MessageEventType.Sent) _seen = true;
    }

    public bool IsCompleted() => _seen;
}
