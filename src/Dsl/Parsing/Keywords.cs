using System.Collections.Frozen;
using System.Reflection;
using Superpower.Display;

namespace EventSourcedJourneys.Dsl.Parsing;

/// <summary>The reserved words, read from the <see cref="TokenAttribute"/>s so the enum is the single list.</summary>
static class Keywords
{
    public static readonly FrozenDictionary<string, DslToken> ByText = typeof(DslToken)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (Kind: (DslToken)f.GetValue(null)!, Attribute: f.GetCustomAttribute<TokenAttribute>()))
        .Where(k => k.Attribute is { Category: "keyword" })
        .ToFrozenDictionary(k => k.Attribute!.Example!, k => k.Kind, StringComparer.Ordinal);

    static readonly FrozenDictionary<string, DslToken>.AlternateLookup<ReadOnlySpan<char>> BySpan =
        ByText.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The keyword spelled by <paramref name="word"/>, or <see cref="DslToken.Identifier"/>.</summary>
    public static DslToken Classify(ReadOnlySpan<char> word) => BySpan.TryGetValue(word, out var kind) ? kind : DslToken.Identifier;

    public static bool IsKeyword(DslToken kind) => kind >= DslToken.Segment;

    public static bool IsReserved(string word) => ByText.ContainsKey(word);
}
