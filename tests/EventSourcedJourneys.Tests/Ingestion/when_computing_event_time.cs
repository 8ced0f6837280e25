using EventSourcedJourneys.Domain.Contacts;
using NodaTime;

namespace EventSourcedJourneys.Tests.Ingestion;

/// <summary>Segment's time rules as a pure function: no database.</summary>
public sealed class when_computing_event_time
{
    private static readonly Instant Received = Instant.FromUtc(2026, 12, 1, 8, 0);

    [Fact]
    public void timestamp_wins_over_everything()
    {
        var given = Instant.FromUtc(2026, 11, 30, 12, 0);
        Assert.Equal((given, EventTimeSource.Timestamp), EventTime.Resolve(given, Received, Received, Received));
    }

    [Fact]
    public void original_timestamp_is_corrected_by_the_skew_between_sent_at_and_received_at()
    {
        // The device clock runs 2 hours slow: it happened 30 s before it was sent.
        var original = Instant.FromUtc(2026, 12, 1, 5, 59, 30);
        var sent = Instant.FromUtc(2026, 12, 1, 6, 0);
        Assert.Equal((Instant.FromUtc(2026, 12, 1, 7, 59, 30), EventTimeSource.CorrectedOriginalTimestamp), EventTime.Resolve(null, original, sent, Received));
    }

    [Fact]
    public void without_sent_at_the_original_timestamp_is_taken_as_sent_and_without_anything_the_receive_time()
    {
        var original = Instant.FromUtc(2026, 12, 1, 7, 0);
        Assert.Equal((original, EventTimeSource.OriginalTimestamp), EventTime.Resolve(null, original, null, Received));
        Assert.Equal((Received, EventTimeSource.ReceivedAt), EventTime.Resolve(null, null, null, Received));
    }

    [Fact]
    public void more_than_a_day_ahead_of_the_server_is_absurd_but_a_skewed_minute_is_not()
    {
        Assert.False(EventTime.IsAbsurdlyLate(Received + Duration.FromMinutes(1), Received));
        Assert.False(EventTime.IsAbsurdlyLate(Received + Duration.FromHours(24), Received));
        Assert.True(EventTime.IsAbsurdlyLate(Received + Duration.FromHours(24) + Duration.FromSeconds(1), Received));
    }
}
