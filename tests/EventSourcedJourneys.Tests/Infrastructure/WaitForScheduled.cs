using Wolverine.Tracking;

namespace EventSourcedJourneys.Tests.Infrastructure;

/// <summary>A tracked session condition: done once a message of type T has been scheduled for later.</summary>
public sealed class WaitForScheduled<T> : ITrackedCondition
{
    private bool _seen;

    public void Record(EnvelopeRecord record)
    {
        // A durable local queue records a scheduled message as "Sent" with a scheduled time.
        if (record.Message is T && (record.MessageEventType == MessageEventType.Scheduled
                                    || (record.MessageEventType == MessageEventType.Sent && record.Envelope?.ScheduledTime is not null)))
        {
            _seen = true;
        }
    }

    public bool IsCompleted() => _seen;
}
