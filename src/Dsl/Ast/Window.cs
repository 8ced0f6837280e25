namespace EventSourcedJourneys.Dsl.Ast;

public enum WindowKind
{
    InLast,
    Ever,
    SinceEntry,
}

/// <summary><c>in last 45d</c>, <c>ever</c> or <c>since entry</c>.</summary>
public sealed record Window(WindowKind Kind, DurationLiteral? Length)
{
    public static Window Ever { get; } = new(WindowKind.Ever, null);

    public static Window SinceEntry { get; } = new(WindowKind.SinceEntry, null);

    public static Window InLast(DurationLiteral length) => new(WindowKind.InLast, length);
}
