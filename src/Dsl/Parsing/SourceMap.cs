using EventSourcedJourneys.Dsl.Diagnostics;

namespace EventSourcedJourneys.Dsl.Parsing;

/// <summary>
/// Where each syntax node came from. Kept beside the tree, not in it, so that two trees with the same
/// meaning are equal however they were laid out (the formatter round-trip depends on it).
/// </summary>
public sealed class SourceMap
{
    readonly Dictionary<object, SourceSpan> _spans = new(ReferenceEqualityComparer.Instance);

    internal void Record(object node, SourceSpan span) => _spans.TryAdd(node, span);

    public SourceSpan? Find(object node) => _spans.TryGetValue(node, out var span) ? span : null;

    public SourceSpan SpanOf(object node, SourceSpan fallback) => Find(node) ?? fallback;
}
