using NodaTime;
using NodaTime.Text;

namespace EventSourcedJourneys.Api.Reports;

/// <summary>The <c>from</c> (inclusive) and <c>to</c> (exclusive) of a report, as ISO-8601 instants; either may be left out.</summary>
public static class ReportRange
{
    public static (Instant? From, Instant? To) Read(string? from, string? to, Dictionary<string, string[]> errors)
    {
        var start = Parse(from, "from", errors);
        var end = Parse(to, "to", errors);
        if (start is { } s && end is { } e && e < s)
            errors["to"] = [$"'to' ({InstantPattern.ExtendedIso.Format(e)}) is before 'from' ({InstantPattern.ExtendedIso.Format(s)})."];
        return (start, end);
    }

    private static Instant? Parse(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parsed = OffsetDateTimePattern.ExtendedIso.Parse(text.Trim());
        if (parsed.Success) return parsed.Value.ToInstant();
        errors[field] = [$"'{text}' is not an ISO-8601 instant such as 2026-12-01T00:00:00Z."];
        return null;
    }
}
