using System.Globalization;
using System.Text.Json;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Runtime;

/// <summary>
/// A JSON-like value as rules see it: traits, event properties and context are trees of these.
/// Numbers are <see cref="decimal"/> so that sums of money compare exactly; JSON null and absent keys are
/// both "missing" to a rule.
/// </summary>
public abstract class Value
{
    private protected Value()
    {
    }

    public static Value Null { get; } = new NullValue();

    public static Value True { get; } = new BoolValue(true);

    public static Value False { get; } = new BoolValue(false);

    public static Value Of(decimal number) => new NumberValue(number);

    public static Value Of(string text) => new TextValue(text);

    public static Value Of(bool flag) => flag ? True : False;

    public static Value Of(Instant instant) => new TimeValue(instant);

    public static ObjectValue Object(params (string Key, Value Value)[] members) =>
        new(members.ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal));

    public static ArrayValue Array(params Value[] items) => new(items);

    /// <summary>Reads a JSON document; numbers outside the decimal range become missing values.</summary>
    public static Value FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => new ObjectValue(element.EnumerateObject()
            .DistinctBy(p => p.Name, StringComparer.Ordinal)
            .ToDictionary(p => p.Name, p => FromJson(p.Value), StringComparer.Ordinal)),
        JsonValueKind.Array => new ArrayValue(element.EnumerateArray().Select(FromJson).ToArray()),
        JsonValueKind.String => new TextValue(element.GetString()!),
        JsonValueKind.Number => element.TryGetDecimal(out var number) ? new NumberValue(number) : Null,
        JsonValueKind.True => True,
        JsonValueKind.False => False,
        _ => Null,
    };

    /// <summary>Reads a JSON object (traits, properties, context); anything else gives an empty object.</summary>
    public static ObjectValue ObjectFromJson(JsonElement element) => FromJson(element) as ObjectValue ?? ObjectValue.Empty;

    public static Value ParseJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        return FromJson(document.RootElement);
    }
}

public sealed class NullValue : Value
{
    internal NullValue()
    {
    }

    public override string ToString() => "null";
}

public sealed class NumberValue(decimal number) : Value
{
    public decimal Number { get; } = number;

    public override string ToString() => Number.ToString(CultureInfo.InvariantCulture);
}

public sealed class TextValue(string text) : Value
{
    public string Text { get; } = text;

    public override string ToString() => Text;
}

public sealed class BoolValue(bool flag) : Value
{
    public bool Flag { get; } = flag;

    public override string ToString() => Flag ? "true" : "false";
}

/// <summary>A point in time; produced by <c>first(…)</c>, <c>last(…)</c> and <c>30d ago</c>, or set by the caller.</summary>
public sealed class TimeValue(Instant instant) : Value
{
    public Instant Instant { get; } = instant;

    public override string ToString() => Instant.ToString();
}

public sealed class ArrayValue(IReadOnlyList<Value> items) : Value
{
    public IReadOnlyList<Value> Items { get; } = items;
}

public sealed class ObjectValue(IReadOnlyDictionary<string, Value> members) : Value
{
    public static ObjectValue Empty { get; } = new(new Dictionary<string, Value>(StringComparer.Ordinal));

    public IReadOnlyDictionary<string, Value> Members { get; } = members;

    public Value? this[string key] => Members.GetValueOrDefault(key);
}
