using System.Text.Json;
using System.Text.Json.Serialization;
using EventSourcedJourneys.Domain.Messages;
using NodaTime;
using NodaTime.Serialization.SystemTextJson;
using NodaTime.Text;

namespace EventSourcedJourneys.Domain.Time;

/// <summary>
/// The one JSON form of NodaTime values, used by the event store, Wolverine's envelopes and the HTTP API alike
/// (docs/adr/0001-stack-and-layout.md lists the forms): an <see cref="Instant"/> is ISO-8601 UTC
/// ("2026-12-01T09:30:00Z"), a <see cref="Duration"/> is an ISO-8601 duration ("PT30M", "P3D"),
/// a <see cref="LocalDate"/> "2026-12-01", a <see cref="LocalTime"/> "09:00:00", a zone its TZDB id,
/// an enum its camel-case name ("scheduled"), a channel its lower-case rule word ("webpush").
/// </summary>
public static class JourneysJson
{
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);
        // Replace NodaTime's "D:hh:mm:ss" duration form with ISO-8601, the form API users already know.
        for (var i = options.Converters.Count - 1; i >= 0; i--)
        {
            if (options.Converters[i] is JsonConverter<Duration>) options.Converters.RemoveAt(i);
        }
        options.Converters.Add(IsoDurationConverter.Instance);
        // Enums are written as camel-case names, never as numbers that shift when members are added.
        options.Converters.Add(new ChannelJsonConverter());
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        return options;
    }

    public static JsonSerializerOptions Create() => Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public sealed class IsoDurationConverter : JsonConverter<Duration>
    {
        public static readonly IsoDurationConverter Instance = new();

        public override Duration Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String)
                throw new JsonException("A duration is an ISO-8601 string such as \"PT30M\" or \"P3D\".");
            var text = reader.GetString()!;
            var parsed = PeriodPattern.NormalizingIso.Parse(text);
            if (!parsed.Success)
                throw new JsonException($"'{text}' is not an ISO-8601 duration such as \"PT30M\" or \"P3D\".");
            var period = parsed.Value;
            if (period.Years != 0 || period.Months != 0)
                throw new JsonException($"'{text}' uses years or months, whose length varies; use days (\"P30D\").");
            return period.ToDuration();
        }

        public override void Write(Utf8JsonWriter writer, Duration value, JsonSerializerOptions options) =>
            writer.WriteStringValue(PeriodPattern.NormalizingIso.Format(
                Period.FromNanoseconds(value.ToInt64Nanoseconds()).Normalize()));
    }
}
