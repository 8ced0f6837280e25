using System.Globalization;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using NodaTime.Text;

namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary>
/// How values compare. A missing value (absent key or JSON null) makes every comparison false. Numbers
/// compare with numbers, and with texts that read as an invariant-culture number ("35"); times compare
/// with times and with ISO-8601 texts ("2026-12-01T09:00:00Z", "2026-12-01"). Texts compare ordinally
/// (case-sensitive). Anything else is unequal and unordered.
/// </summary>
static class ValueSemantics
{
    public static bool Compare(Value? left, Value? right, ComparisonOperator op)
    {
        if (left is null || right is null)
            return false;
        return op switch
        {
            ComparisonOperator.Equal => AreEqual(left, right),
            ComparisonOperator.NotEqual => !AreEqual(left, right),
            _ => TryOrder(left, right, out var order) && Holds(order, op),
        };
    }

    public static bool Holds(int order, ComparisonOperator op) => op switch
    {
        ComparisonOperator.Greater => order > 0,
        ComparisonOperator.GreaterOrEqual => order >= 0,
        ComparisonOperator.Less => order < 0,
        ComparisonOperator.LessOrEqual => order <= 0,
        ComparisonOperator.Equal => order == 0,
        _ => order != 0,
    };

    public static bool AreEqual(Value left, Value right) => (left, right) switch
    {
        (TextValue l, TextValue r) => string.Equals(l.Text, r.Text, StringComparison.Ordinal),
        (BoolValue l, BoolValue r) => l.Flag == r.Flag,
        _ => TryOrder(left, right, out var order) && order == 0,
    };

    public static bool TryOrder(Value left, Value right, out int order)
    {
        if (TryNumber(left, out var ln) && TryNumber(right, out var rn) && (left is NumberValue || right is NumberValue))
        {
            order = ln.CompareTo(rn);
            return true;
        }
        if ((left is TimeValue || right is TimeValue) && TryTime(left, out var lt) && TryTime(right, out var rt))
        {
            order = lt.CompareTo(rt);
            return true;
        }
        order = 0;
        return false;
    }

    public static bool TryNumber(Value value, out decimal number)
    {
        switch (value)
        {
            case NumberValue n:
                number = n.Number;
                return true;
            case TextValue t:
                return decimal.TryParse(t.Text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number);
            default:
                number = 0;
                return false;
        }
    }

    public static bool TryTime(Value value, out Instant instant)
    {
        switch (value)
        {
            case TimeValue t:
                instant = t.Instant;
                return true;
            case TextValue text:
                return TryParseTime(text.Text, out instant);
            default:
                instant = default;
                return false;
        }
    }

    static bool TryParseTime(string text, out Instant instant)
    {
        var offsetDateTime = OffsetDateTimePattern.ExtendedIso.Parse(text);
        if (offsetDateTime.Success)
        {
            instant = offsetDateTime.Value.ToInstant();
            return true;
        }
        var date = LocalDatePattern.Iso.Parse(text);
        if (date.Success)
        {
            instant = date.Value.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
            return true;
        }
        instant = default;
        return false;
    }

    /// <summary>Reads a calendar date from a trait: an ISO date, an ISO date-time (its own date), or a time.</summary>
    public static LocalDate? TryDate(Value? value, DateTimeZone zone)
    {
        switch (value)
        {
            case TimeValue time:
                return time.Instant.InZone(zone).Date;
            case TextValue text:
                var date = LocalDatePattern.Iso.Parse(text.Text);
                if (date.Success)
                    return date.Value;
                var offsetDateTime = OffsetDateTimePattern.ExtendedIso.Parse(text.Text);
                return offsetDateTime.Success ? offsetDateTime.Value.Date : null;
            default:
                return null;
        }
    }

    public static Value? Present(Value? value) => value is NullValue ? null : value;
}
