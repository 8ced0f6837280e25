using System.Text;
using Superpower.Model;

namespace EventSourcedJourneys.Dsl.Parsing;

/// <summary>
/// Turns text into tokens without ever failing: anything it cannot read becomes an
/// <see cref="DslToken.Invalid"/>, <see cref="DslToken.UnterminatedText"/> or <see cref="DslToken.MalformedNumber"/>
/// token, which the parser reports with a precise position. Comments (<c>#</c> to end of line) and all
/// layout are skipped.
/// </summary>
static class DslTokenizer
{
    public static Token<DslToken>[] Tokenize(string text)
    {
        var scanner = new Scanner(text);
        var tokens = new List<Token<DslToken>>(text.Length / 4);
        while (scanner.SkipLayout())
            tokens.Add(scanner.Next());
        return tokens.ToArray();
    }

    sealed class Scanner(string text)
    {
        int _index;
        int _line = 1;
        int _column = 1;

        char Peek(int ahead = 0) => _index + ahead < text.Length ? text[_index + ahead] : '\0';

        bool Has(int ahead = 0) => _index + ahead < text.Length;

        void Advance()
        {
            if (text[_index] == '\n')
            {
                _line++;
                _column = 1;
            }
            else
            {
                _column++;
            }
            _index++;
        }

        /// <summary>Skips whitespace and comments; returns whether a token follows.</summary>
        public bool SkipLayout()
        {
            while (Has())
            {
                var c = Peek();
                if (c == '#')
                {
                    while (Has() && Peek() != '\n')
                        Advance();
                }
                else if (char.IsWhiteSpace(c))
                {
                    Advance();
                }
                else
                {
                    return true;
                }
            }
            return false;
        }

        public Token<DslToken> Next()
        {
            var start = new Position(_index, _line, _column);
            var kind = Scan();
            return new Token<DslToken>(kind, new TextSpan(text, start, _index - start.Absolute));
        }

        DslToken Scan()
        {
            var c = Peek();
            if (WordCharAt(0, start: true) > 0)
                return ScanWord();
            if (char.IsAsciiDigit(c) || (c == '-' && char.IsAsciiDigit(Peek(1))))
                return ScanNumeric();
            if (c == '"')
                return ScanText();

            Advance();
            switch (c)
            {
                case '=': return DslToken.Equal;
                case '(': return DslToken.LParen;
                case ')': return DslToken.RParen;
                case '[': return DslToken.LBracket;
                case ']': return DslToken.RBracket;
                case ',': return DslToken.Comma;
                case '.': return DslToken.Dot;
                case '!' when Peek() == '=':
                    Advance();
                    return DslToken.NotEqual;
                case '-' when Peek() == '>':
                    Advance();
                    return DslToken.Arrow;
                case '>' when Peek() == '=':
                    Advance();
                    return DslToken.GreaterOrEqual;
                case '>': return DslToken.Greater;
                case '<' when Peek() == '=':
                    Advance();
                    return DslToken.LessOrEqual;
                case '<': return DslToken.Less;
            }

            // One token for a run of unreadable characters keeps garbage input cheap.
            while (Has() && IsUnreadable(Peek()) && WordCharAt(0, start: false) == 0)
                Advance();
            return DslToken.Invalid;
        }

        static bool IsWordPart(char c) => char.IsLetterOrDigit(c) || c == '_';

        /// <summary>How many UTF-16 units the letter, digit or <c>_</c> at this position takes (2 for letters
        /// outside the Basic Multilingual Plane, such as 𠀀), or 0 when there is none.</summary>
        int WordCharAt(int ahead, bool start)
        {
            var c = Peek(ahead);
            if (c == '_' || (start ? char.IsLetter(c) : char.IsLetterOrDigit(c)))
                return 1;
            if (!char.IsHighSurrogate(c) || !char.IsLowSurrogate(Peek(ahead + 1)))
                return 0;
            var rune = new Rune(c, Peek(ahead + 1));
            return (start ? Rune.IsLetter(rune) : Rune.IsLetterOrDigit(rune)) ? 2 : 0;
        }

        static bool IsUnreadable(char c) =>
            !char.IsWhiteSpace(c) && !IsWordPart(c) && c != '"' && c != '#' && "=()[],.!-<>".IndexOf(c) < 0;

        DslToken ScanWord()
        {
            var start = _index;
            for (var length = WordCharAt(0, start: false); length > 0; length = WordCharAt(0, start: false))
            {
                for (var i = 0; i < length; i++)
                    Advance();
            }
            return Keywords.Classify(text.AsSpan(start, _index - start));
        }

        DslToken ScanNumeric()
        {
            var negative = Peek() == '-';
            if (negative)
                Advance();
            var digitsStart = _index;
            while (char.IsAsciiDigit(Peek()))
                Advance();
            var digits = _index - digitsStart;
            DslToken kind;

            if (!negative && digits == 4 && Peek() == '-' && IsDigits(1, 2) && Peek(3) == '-' && IsDigits(4, 2))
            {
                for (var i = 0; i < 6; i++)
                    Advance();
                kind = DslToken.Date;
            }
            else if (!negative && digits <= 2 && Peek() == ':' && IsDigits(1, 2))
            {
                for (var i = 0; i < 3; i++)
                    Advance();
                kind = DslToken.TimeOfDay;
            }
            else if (Peek() == '.' && char.IsAsciiDigit(Peek(1)))
            {
                Advance();
                while (char.IsAsciiDigit(Peek()))
                    Advance();
                kind = DslToken.Number;
            }
            else if (!negative && "smhdw".IndexOf(Peek()) >= 0 && !IsWordPart(Peek(1)))
            {
                Advance();
                return DslToken.Duration;
            }
            else
            {
                kind = DslToken.Number;
            }

            if (kind == DslToken.Number && Peek() == '%' && !IsWordPart(Peek(1)))
            {
                Advance();
                return DslToken.Percent;
            }
            if (!IsWordPart(Peek()) && !(Peek() == '.' && char.IsAsciiDigit(Peek(1))))
                return kind;
            while (IsWordPart(Peek()) || Peek() == '.' || Peek() == ':' || Peek() == '-')
                Advance();
            return DslToken.MalformedNumber;
        }

        bool IsDigits(int ahead, int count)
        {
            for (var i = 0; i < count; i++)
            {
                if (!char.IsAsciiDigit(Peek(ahead + i)))
                    return false;
            }
            return true;
        }

        DslToken ScanText()
        {
            Advance();
            var valid = true;
            while (Has())
            {
                var c = Peek();
                if (c == '"')
                {
                    Advance();
                    return valid ? DslToken.Text : DslToken.Invalid;
                }
                if (c is '\n' or '\r')
                    return DslToken.UnterminatedText;
                if (c == '\\')
                {
                    Advance();
                    if (!Has() || Peek() is '\n' or '\r')
                        return DslToken.UnterminatedText;
                    valid &= TextLiterals.IsEscape(text, _index);
                }
                else if (char.IsControl(c) && c != '\t')
                {
                    valid = false;
                }
                Advance();
            }
            return DslToken.UnterminatedText;
        }
    }
}
