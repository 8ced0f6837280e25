using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Compilation;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Tests;

public class when_scheduling_into_a_send_window
{
    static readonly DateTimeZone Paris = DateTimeZoneProviders.Tzdb["Europe/Paris"];
    static readonly SendWindow Daytime = new(new LocalTime(9, 0), new LocalTime(21, 0), ZoneReference.Local);

    static Instant At(int day, int hour, int minute = 0) => Paris.AtStrictly(new LocalDateTime(2026, 12, day, hour, minute)).ToInstant();

    [Fact]
    public void a_time_inside_the_window_is_kept() => Assert.Equal(At(10, 15), Daytime.NextOpening(At(10, 15), Paris));

    [Fact]
    public void a_time_before_opening_waits_for_the_same_morning() => Assert.Equal(At(10, 9), Daytime.NextOpening(At(10, 6), Paris));

    [Fact]
    public void a_time_after_closing_waits_for_the_next_morning() => Assert.Equal(At(11, 9), Daytime.NextOpening(At(10, 21), Paris));

    [Fact]
    public void a_window_past_midnight_wraps_around()
    {
        var night = new SendWindow(new LocalTime(21, 0), new LocalTime(9, 0), ZoneReference.Local);

        Assert.Equal((true, true, false), (night.Contains(new LocalTime(23, 0)), night.Contains(new LocalTime(8, 59)), night.Contains(new LocalTime(9, 0))));
        Assert.Equal(At(10, 21), night.NextOpening(At(10, 12), Paris));
    }
}
