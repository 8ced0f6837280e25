namespace EventSourcedJourneys.Dsl.Diagnostics;

/// <summary>Collects diagnostics, stopping at a fixed number so garbage input cannot produce megabytes of errors.</summary>
sealed class DiagnosticBag
{
    public const int MaxDiagnostics = 100;

    readonly List<Diagnostic> _items = [];
    bool _truncated;

    public bool IsFull => _items.Count >= MaxDiagnostics;

    public void Add(string code, SourceSpan span, string message, IReadOnlyList<string>? expected = null)
    {
        if (IsFull)
        {
            _truncated = true;
            return;
        }
        _items.Add(new Diagnostic(code, message, span.Line, span.Column, span.Start, span.Length, expected ?? []));
    }

    public IReadOnlyList<Diagnostic> ToList()
    {
        if (!_truncated)
            return _items.ToArray();
        var last = _items[^1];
        return [.. _items, last with
        {
            Code = DiagnosticCodes.TooManyProblems,
            Message = $"there are more than {MaxDiagnostics} problems; fix these first",
            Expected = [],
        }];
    }
}
