namespace EventSourcedJourneys.Dsl.Ast;

/// <summary>Something that is true or false for a contact (and, inside an event pattern, for that event).</summary>
public abstract record Condition;

/// <summary><c>a and b and c</c>; always two or more operands.</summary>
public sealed record AllOf(NodeList<Condition> Operands) : Condition;

/// <summary><c>a or b or c</c>; always two or more operands.</summary>
public sealed record AnyOf(NodeList<Condition> Operands) : Condition;

/// <summary><c>not a</c></summary>
public sealed record Not(Condition Operand) : Condition;

public enum ComparisonOperator
{
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// <summary><c>traits.age >= 18</c></summary>
public sealed record Comparison(Operand Left, ComparisonOperator Operator, Operand Right) : Condition;

/// <summary><c>traits.age between 35 and 45</c>, both ends included.</summary>
public sealed record Between(Operand Subject, Operand Low, Operand High) : Condition;

/// <summary><c>context.os.name in ["iOS", "Android"]</c></summary>
public sealed record InList(Operand Subject, NodeList<Literal> Items) : Condition;

public enum TextOperator
{
    Contains,
    StartsWith,
}

/// <summary><c>traits.email contains "@"</c>, <c>traits.city starts with "San"</c>.</summary>
public sealed record TextTest(Operand Subject, TextOperator Operator, Operand Value) : Condition;

/// <summary><c>traits.phone exists</c>; write <c>not traits.phone exists</c> or <c>traits.phone not exists</c>.</summary>
public sealed record Exists(PathOperand Path) : Condition;

/// <summary><c>segment active_buyers</c></summary>
public sealed record SegmentReference(string Name) : Condition;

/// <summary><c>event "app_opened" in last 30d</c>: at least one such event in the window.</summary>
public sealed record EventOccurred(EventPattern Event, Window Window) : Condition;
