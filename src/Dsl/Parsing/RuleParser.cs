using System.Buffers;
using System.Globalization;
using System.Text;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Diagnostics;
using Superpower.Model;

namespace EventSourcedJourneys.Dsl.Parsing;

/// <summary>A parsed document with the source positions of its nodes; <see cref="Document"/> holds only
/// the rules that parsed cleanly.</summary>
public sealed record ParseOutcome(
    RuleDocument Document,
    SourceMap Spans,
    IReadOnlyList<Diagnostic> Diagnostics,
    IReadOnlySet<string> NamesOfBrokenRules)
{
    public bool Succeeded => Diagnostics.Count == 0;
}

/// <summary>
/// Parses rules text. Never throws: every problem becomes a <see cref="Diagnostic"/>.
/// The document is cut into rules at the words that can only start one (<c>segment name =</c>,
/// <c>trigger</c>, <c>policy</c>, <c>funnel</c>, <c>journey</c>) so each rule gets its own error.
/// </summary>
public static class RuleParser
{
    public static bool TryParse(string text, out RuleDocument document, out IReadOnlyList<Diagnostic> diagnostics)
    {
        var outcome = Parse(text);
        document = outcome.Document;
        diagnostics = outcome.Diagnostics;
        return outcome.Succeeded;
    }

    /// <summary>Whether a word is reserved and so cannot name a rule (any word may still follow a dot in a path).</summary>
    public static bool IsReservedWord(string word) => Keywords.IsReserved(word);

    public static ParseOutcome Parse(string? text)
    {
        text ??= "";
        var map = new SourceMap();
        var bag = new DiagnosticBag();
        var rules = new List<Rule>();
        var broken = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            if (text.Length > RuleCompiler.MaxDocumentLength)
            {
                bag.Add(DiagnosticCodes.DocumentTooLarge, SourceSpan.DocumentStart,
                    $"the document is {text.Length} characters long; the limit is {RuleCompiler.MaxDocumentLength}");
                return new ParseOutcome(new RuleDocument(NodeList<Rule>.Empty), map, bag.ToList(), broken);
            }

            var tokens = DslTokenizer.Tokenize(text);
            if (tokens.Length == 0)
                bag.Add(DiagnosticCodes.Syntax, EndOf(text), "the document is empty; write at least one segment, trigger, policy or funnel",
                    ["`segment`", "`trigger`", "`policy`", "`funnel`"]);
            var session = new ParseSession(map);
            foreach (var (start, end) in Chunks(tokens))
            {
                if (bag.IsFull)
                    break;
                var chunk = tokens[start..end];
                var next = end < tokens.Length ? tokens[end] : (Token<DslToken>?)null;
                var rule = ParseSession.Run(session, () => ParseChunk(chunk, next, text, session, bag));
                if (rule is not null)
                    rules.Add(rule);
                else if (chunk.Length > 1 && chunk[1].Kind == DslToken.Identifier)
                    broken.Add(chunk[1].ToStringValue());
            }
        }
        catch (Exception e)
        {
            // The contract is "diagnostics, never an exception"; a defect here must not take the caller down.
            bag.Add(DiagnosticCodes.InternalError, SourceSpan.DocumentStart, $"the document could not be read ({e.GetType().Name})");
        }
        return new ParseOutcome(new RuleDocument(new NodeList<Rule>(rules)), map, bag.ToList(), broken);
    }

    static IEnumerable<(int Start, int End)> Chunks(Token<DslToken>[] tokens)
    {
        var start = 0;
        for (var i = 1; i < tokens.Length; i++)
        {
            if (StartsRule(tokens, i))
            {
                yield return (start, i);
                start = i;
            }
        }
        if (tokens.Length > 0)
            yield return (start, tokens.Length);
    }

    /// <summary>After a dot, a rule word is just a property name (<c>traits.trigger</c>).</summary>
    static bool StartsRule(Token<DslToken>[] tokens, int i) => tokens[i - 1].Kind != DslToken.Dot && tokens[i].Kind switch
    {
        DslToken.Trigger or DslToken.Policy or DslToken.Funnel or DslToken.Journey => true,
        DslToken.Segment => i + 2 < tokens.Length && tokens[i + 2].Kind == DslToken.Equal,
        _ => false,
    };

    static Rule? ParseChunk(Token<DslToken>[] chunk, Token<DslToken>? next, string text, ParseSession session, DiagnosticBag bag)
    {
        var unreadable = false;
        foreach (var token in chunk)
        {
            var message = DescribeUnreadable(token);
            if (message is null)
                continue;
            unreadable = true;
            bag.Add(message.Value.Code, SpanOf(token), message.Value.Text);
        }
        if (unreadable)
            return null;

        switch (chunk[0].Kind)
        {
            case DslToken.Journey:
                bag.Add(DiagnosticCodes.NotSupportedYet, SpanOf(chunk[0]), "multi-step journeys are not available yet; use triggers");
                return null;
            case DslToken.Segment or DslToken.Trigger or DslToken.Policy or DslToken.Funnel:
                break;
            default:
                bag.Add(DiagnosticCodes.Syntax, SpanOf(chunk[0]),
                    $"unexpected {Appearance(chunk[0])}, expected `segment`, `trigger`, `policy` or `funnel`",
                    ["`segment`", "`trigger`", "`policy`", "`funnel`"]);
                return null;
        }

        session.Start(chunk);
        var result = Grammar.Rule(new TokenList<DslToken>(chunk));
        if (result.HasValue)
            return result.Value;

        if (session.TooDeepAt is { } deep)
        {
            bag.Add(DiagnosticCodes.TooDeeplyNested, new SourceSpan(deep.Absolute, 1, deep.Line, deep.Column),
                $"conditions are nested more than {ParseSession.MaxNestingDepth} levels deep; split them into named segments");
            return null;
        }

        ReportSyntaxError(result, chunk, next, text, bag);
        return null;
    }

    /// <summary>Superpower's failure, in our words: its own message when a parser gave one, otherwise
    /// "unexpected X, expected A, B or C" at the token where reading stopped (or the next rule's first word).</summary>
    static void ReportSyntaxError(TokenListParserResult<DslToken, Rule> result, Token<DslToken>[] chunk, Token<DslToken>? next, string text, DiagnosticBag bag)
    {
        var expected = result.Expectations ?? [];
        if (result.ErrorMessage is { } custom)
        {
            var position = result.ErrorPosition.HasValue ? result.ErrorPosition : EndOf(chunk[^1]);
            var length = result.Remainder.IsAtEnd ? 0 : result.Remainder.ConsumeToken().Value.Span.Length;
            bag.Add(DiagnosticCodes.Syntax, new SourceSpan(position.Absolute, length, position.Line, position.Column), custom, expected);
            return;
        }

        var (span, appearance) = result.Remainder.IsAtEnd
            ? next is { } following
                ? (SpanOf(following), Appearance(following))
                : (EndOf(text), "end of text")
            : (SpanOf(result.Remainder.ConsumeToken().Value), Appearance(result.Remainder.ConsumeToken().Value));
        var message = expected.Length == 0 ? $"unexpected {appearance}" : $"unexpected {appearance}, expected {ListOf(expected)}";
        bag.Add(DiagnosticCodes.Syntax, span, message, expected);
    }

    static (string Code, string Text)? DescribeUnreadable(Token<DslToken> token)
    {
        var value = token.ToStringValue();
        return token.Kind switch
        {
            DslToken.UnterminatedText => (DiagnosticCodes.UnterminatedText, "this text has no closing quote (\") before the end of the line"),
            DslToken.MalformedNumber => (DiagnosticCodes.Syntax,
                $"`{Clip(value)}` is not a number, duration, date or time; write durations like 30m, 2h or 7d, dates like 2026-12-01 and times like 09:00"),
            DslToken.Invalid when value.StartsWith('"') => (DiagnosticCodes.InvalidCharacter,
                "this text contains a control character or an unknown escape; use \\\" \\\\ \\n \\t \\r or \\uXXXX"),
            DslToken.Invalid => (DiagnosticCodes.InvalidCharacter, $"unexpected character {Describe(value)}"),
            // Out of range values are reported here: inside the grammar's alternatives their message would be lost
            // to "expected a value", which is what the marketer wrote.
            DslToken.Number when !IsDecimal(value) => (DiagnosticCodes.Syntax,
                $"`{Clip(value)}` is too large a number; the largest is 79228162514264337593543950335"),
            DslToken.Percent when !IsDecimal(value[..^1]) => (DiagnosticCodes.Syntax,
                $"`{Clip(value)}` is not a share of the contacts; give a percentage above 0 and below 100, such as 10%"),
            DslToken.Duration when !(long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount)
                                     && amount <= Grammar.LargestDurationAmount) => (DiagnosticCodes.Syntax,
                $"`{Clip(value)}` is far too long; no duration in a rule may be longer than 3650d"),
            _ => null,
        };
    }

    static bool IsDecimal(string value) =>
        decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _);

    /// <summary>At most 20 UTF-16 units, never half of a character outside the Basic Multilingual Plane.</summary>
    static string Clip(string value) =>
        value.Length <= 20 ? value : value[..(char.IsHighSurrogate(value[19]) ? 19 : 20)] + "…";

    /// <summary>The first character of <paramref name="value"/>: as written when it is visible, else by its code
    /// point (also half of a surrogate pair, which no text may show on its own).</summary>
    static string Describe(string value)
    {
        if (Rune.DecodeFromUtf16(value, out var rune, out _) != OperationStatus.Done)
            return $"U+{(int)value[0]:X4}";
        return Rune.IsControl(rune) || Rune.IsWhiteSpace(rune) ? $"U+{rune.Value:X4}" : $"`{rune}`";
    }

    static string Appearance(Token<DslToken> token)
    {
        var value = Clip(token.ToStringValue());
        return token.Kind switch
        {
            _ when Keywords.IsKeyword(token.Kind) => $"keyword `{value}`",
            DslToken.Identifier => $"name `{value}`",
            DslToken.Text => $"text {value}",
            DslToken.Number => $"number `{value}`",
            DslToken.Duration => $"duration `{value}`",
            DslToken.TimeOfDay => $"time `{value}`",
            DslToken.Date => $"date `{value}`",
            _ => $"`{value}`",
        };
    }

    internal static string ListOf(IReadOnlyList<string> items) => items.Count switch
    {
        1 => items[0],
        _ => string.Join(", ", items.Take(items.Count - 1)) + " or " + items[^1],
    };

    static SourceSpan SpanOf(Token<DslToken> token) =>
        new(token.Position.Absolute, token.Span.Length, token.Position.Line, token.Position.Column);

    static Position EndOf(Token<DslToken> token) => token.Span.Skip(token.Span.Length).Position;

    static SourceSpan EndOf(string text)
    {
        var line = 1;
        var column = 1;
        foreach (var c in text)
        {
            if (c == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }
        return new SourceSpan(text.Length, 0, line, column);
    }
}
