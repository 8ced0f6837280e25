using EventSourcedJourneys.Dsl.Ast;

namespace EventSourcedJourneys.Dsl.Checking;

/// <summary>What the checker knows about an operand's type. Paths are <see cref="Unknown"/>: traits and
/// properties are schemaless, so only literals and aggregates can be caught out.</summary>
enum OperandType
{
    Unknown,
    Number,
    Text,
    Flag,
    Time,
}

static class OperandTypes
{
    public static OperandType Of(Operand operand) => operand switch
    {
        NumberLiteral => OperandType.Number,
        TextLiteral => OperandType.Text,
        BoolLiteral => OperandType.Flag,
        AgoLiteral => OperandType.Time,
        Aggregate { Function: AggregateFunction.First or AggregateFunction.Last } => OperandType.Time,
        Aggregate => OperandType.Number,
        _ => OperandType.Unknown,
    };

    public static string Describe(OperandType type) => type switch
    {
        OperandType.Number => "a number",
        OperandType.Text => "a text",
        OperandType.Flag => "a yes/no value",
        OperandType.Time => "a time",
        _ => "a value",
    };
}
