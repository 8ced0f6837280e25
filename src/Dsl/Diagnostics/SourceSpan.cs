namespace EventSourcedJourneys.Dsl.Diagnostics;

/// <summary>Where a piece of syntax sits in the document: absolute offset, length, and 1-based line and column.</summary>
public readonly record struct SourceSpan(int Start, int Length, int Line, int Column)
{
    public static readonly SourceSpan DocumentStart = new(0, 0, 1, 1);
}
