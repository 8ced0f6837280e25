namespace EventSourcedJourneys.Dsl.Ast;

/// <summary>A value in a comparison: a path, a literal or an aggregate over events.</summary>
public abstract record Operand;

public enum PathRoot
{
    Traits,
    Properties,
    Context,
}

/// <summary><c>traits.address.city</c></summary>
public sealed record PathOperand(PathRoot Root, NodeList<string> Segments) : Operand;

public enum AggregateFunction
{
    Count,
    Sum,
    Min,
    Max,
    Avg,
    First,
    Last,
}

/// <summary><c>count(event "x" in last 45d)</c>, <c>sum(properties.total of event "x" ever)</c>,
/// <c>last(event "x" ever)</c> (the time of the latest such event).</summary>
public sealed record Aggregate(AggregateFunction Function, PathOperand? Of, EventPattern Event, Window Window) : Operand;

/// <summary>A constant written in the rule.</summary>
public abstract record Literal : Operand;

public sealed record NumberLiteral(decimal Value) : Literal;

public sealed record TextLiteral(string Value) : Literal;

public sealed record BoolLiteral(bool Value) : Literal;

/// <summary><c>30d ago</c>: the instant that long before "now".</summary>
public sealed record AgoLiteral(DurationLiteral Duration) : Literal;
