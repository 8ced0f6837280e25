using System.Runtime.CompilerServices;
using EventSourcedJourneys.Dsl.Diagnostics;
using Superpower.Model;

namespace EventSourcedJourneys.Dsl.Parsing;

/// <summary>
/// State of one synchronous parse: the tokens being read (to turn results into spans), the source map and
/// the nesting depth. The grammar is a set of static parsers, so this lives in a thread-static slot for the
/// duration of <see cref="RuleParser"/>'s call and nowhere else.
/// </summary>
sealed class ParseSession
{
    /// <summary>Deeper nesting than this is reported instead of parsed, so no input can exhaust the stack.</summary>
    public const int MaxNestingDepth = 40;

    [ThreadStatic] static ParseSession? t_current;

    public static ParseSession Current => t_current ?? throw new InvalidOperationException("No parse in progress.");

    public ParseSession(SourceMap map) => Map = map;

    public SourceMap Map { get; }

    public Token<DslToken>[] Tokens { get; private set; } = [];

    public int Depth { get; private set; }

    /// <summary>Prepares to parse one rule's tokens.</summary>
    public void Start(Token<DslToken>[] tokens)
    {
        Tokens = tokens;
        Depth = 0;
        TooDeepAt = null;
    }

    public Position? TooDeepAt { get; private set; }

    public static T Run<T>(ParseSession session, Func<T> parse)
    {
        var previous = t_current;
        t_current = session;
        try
        {
            return parse();
        }
        finally
        {
            t_current = previous;
        }
    }

    public bool TryEnter(TokenList<DslToken> input)
    {
        if (Depth < MaxNestingDepth && RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            Depth++;
            return true;
        }
        TooDeepAt ??= input.IsAtEnd ? Position.Empty : input.ConsumeToken().Value.Position;
        return false;
    }

    public void Leave() => Depth--;

    public void Record(object node, TokenList<DslToken> from, TokenList<DslToken> remainder)
    {
        if (from.IsAtEnd || remainder.Position <= from.Position)
            return;
        var first = Tokens[from.Position];
        var last = Tokens[remainder.Position - 1];
        var start = first.Position;
        var end = last.Position.Absolute + last.Span.Length;
        Map.Record(node, new SourceSpan(start.Absolute, end - start.Absolute, start.Line, start.Column));
    }
}
