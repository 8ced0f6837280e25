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

    /// <summary>Adds a diagnostic whose message is costly to write (a suggestion, a long cycle): once the bag is
    /// full, the message is not written at all, so hostile documents with thousands of problems stay cheap.</summary>
    public void Add(string code, SourceSpan span, Func<string> message)
    {
        if (IsFull)
        {
            _truncated = true;
            return;
        }
        Add(code, span, message());
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
