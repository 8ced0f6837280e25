namespace EventSourcedJourneys.Dsl.Diagnostics;

/// <summary>
/// A problem found in a rules document. Positions are 1-based lines and columns (UTF-16 code units);
/// <see cref="Start"/> and <see cref="Length"/> give the exact span in the text.
/// </summary>
public sealed record Diagnostic(
    string Code,
    string Message,
    int Line,
    int Column,
    int Start,
    int Length,
    IReadOnlyList<string> Expected)
{
    public override string ToString() => $"{Line}:{Column}: {Message}";
}
