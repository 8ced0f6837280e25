using NodaTime;

namespace EventSourcedJourneys.Domain.Contacts;

/// <summary>Which of the call's clocks gave the event time (stored for audits of late or skewed clients).</summary>
public enum EventTimeSource
{
    Timestamp,
    CorrectedOriginalTimestamp,
    OriginalTimestamp,
    ReceivedAt,
}

/// <summary>
/// When a tracked call happened, by Segment's rules: <c>timestamp</c> when given; else <c>originalTimestamp</c>
/// corrected for the client's clock skew, <c>receivedAt - (sentAt - originalTimestamp)</c>; else
/// <c>originalTimestamp</c> as sent when there is no <c>sentAt</c> to correct it by; else <c>receivedAt</c>.
/// </summary>
public static class EventTime
{
    /// <summary>Beyond this, a time in the future is a client bug, not skew.</summary>
    public static readonly Duration FutureTolerance = Duration.FromHours(24);

    public static (Instant Time, EventTimeSource Source) Resolve(Instant? timestamp, Instant? originalTimestamp, Instant? sentAt, Instant receivedAt)
    {
        if (timestamp is { } given) return (given, EventTimeSource.Timestamp);
        if (originalTimestamp is { } original)
        {
            return sentAt is { } sent
                ? (receivedAt - (sent - original), EventTimeSource.CorrectedOriginalTimestamp)
                : (original, EventTimeSource.OriginalTimestamp);
        }
        return (receivedAt, EventTimeSource.ReceivedAt);
    }

    public static bool IsAbsurdlyLate(Instant time, Instant receivedAt) => time - receivedAt > FutureTolerance;
}
