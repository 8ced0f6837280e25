using System.Text.Json;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Time;
using NodaTime;

namespace EventSourcedJourneys.Tests.Time;

public sealed class the_json_form_of_time
{
    private static readonly JsonSerializerOptions Options = JourneysJson.Create();

    private sealed record Sample(Instant At, Duration Wait, LocalDate Day, LocalTime Opens, DateTimeZone Zone, Channel Channel,
        DayOfWeek Weekday);

    [Fact]
    public void is_iso_8601_and_stable()
    {
        var sample = new Sample(Instant.FromUtc(2026, 12, 1, 9, 30), Duration.FromMinutes(90), new LocalDate(2027, 1, 1),
            new LocalTime(9, 0), DateTimeZoneProviders.Tzdb["Europe/Paris"], Channel.WebPush,
            DayOfWeek.Tuesday);

        var json = JsonSerializer.Serialize(sample, Options);

        Assert.Equal(
            "{\"at\":\"2026-12-01T09:30:00Z\",\"wait\":\"PT1H30M\",\"day\":\"2027-01-01\",\"opens\":\"09:00:00\"," +
            "\"zone\":\"Europe/Paris\",\"channel\":\"webpush\",\"weekday\":\"tuesday\"}", json);
        Assert.Equal(sample, JsonSerializer.Deserialize<Sample>(json, Options));
    }

    [Theory]
    [InlineData("\"P3D\"", 3 * 24 * 60)]
    [InlineData("\"PT30M\"", 30)]
    [InlineData("\"P1DT2H\"", 26 * 60)]
    public void durations_read_iso_8601(string json, int minutes) =>
        Assert.Equal(Duration.FromMinutes(minutes), JsonSerializer.Deserialize<Duration>(json, Options));

    [Theory]
    [InlineData("\"P1M\"")]
    [InlineData("\"thirty\"")]
    [InlineData("30")]
    public void durations_with_months_or_not_iso_are_refused(string json) =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Duration>(json, Options));
}
