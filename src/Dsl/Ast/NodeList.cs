using System.Collections;

namespace EventSourcedJourneys.Dsl.Ast;

/// <summary>An immutable list with value equality, so syntax trees compare by content.</summary>
public sealed class NodeList<T> : IReadOnlyList<T>, IEquatable<NodeList<T>>
{
    readonly T[] _items;

    public NodeList(IEnumerable<T> items) => _items = items.ToArray();

    public static NodeList<T> Empty { get; } = new([]);

    public int Count => _items.Length;

    public T this[int index] => _items[index];

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public bool Equals(NodeList<T>? other) =>
        other is not null && _items.AsSpan().SequenceEqual(other._items, EqualityComparer<T>.Default);

    public override bool Equals(object? obj) => Equals(obj as NodeList<T>);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in _items)
            hash.Add(item);
        return hash.ToHashCode();
    }

    public override string ToString() => $"[{string.Join(", ", _items)}]";
}

public static class NodeList
{
    public static NodeList<T> Of<T>(params T[] items) => new(items);
}
