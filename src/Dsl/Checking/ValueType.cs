using EventSourcedJourneys.Dsl.Ast;

namespace EventSourcedJourneys.Dsl.Checking;

/// <summary>What the checker knows about an operand's type. Paths are <see cref="Unknown"/>: traits and
/// properties are schemaless, so only literals and aggregates can be caught out.</summary>
enum ValueType
{
    Unknown,
    Number,
    Text,
    Flag,
    Time,
}

static class ValueTypes
{
    public static ValueType Of(Operand operand) => operand switch
    {
        NumberLiteral => ValueType.Number,
        TextLiteral => ValueType.Text,
        BoolLiteral => ValueType.Flag,
        AgoLiteral => ValueType.Time,
        Aggregate { Function: AggregateFunction.First or AggregateFunction.Last } => ValueType.Time,
        Aggregate => ValueType.Number,
        _ => ValueType.Unknown,
    };

    public static string Describe(ValueType type) => type switch
    {
        ValueType.Number => "a number",
        ValueType.Text => "a text",
        ValueType.Flag => "a yes/no value",
        ValueType.Time => "a time",
        _ => "a value",
    };
}
