using System.Globalization;
using System.Text;

namespace EventSourcedJourneys.Dsl.Parsing;

/// <summary>Quoted text: <c>"…"</c> with the escapes <c>\" \\ \n \t \r \uXXXX</c>. Any other Unicode is taken as is.</summary>
public static class TextLiterals
{
    static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    internal static bool IsEscape(string text, int index) => text[index] switch
    {
        '"' or '\\' or 'n' or 't' or 'r' => true,
        'u' => index + 4 < text.Length && text.AsSpan(index + 1, 4).IndexOfAnyExcept(HexDigits) < 0,
        _ => false,
    };

    /// <summary>Decodes a token that the tokenizer accepted as <see cref="DslToken.Text"/> (quotes included).</summary>
    internal static string Decode(ReadOnlySpan<char> quoted)
    {
        var body = quoted[1..^1];
        if (body.IndexOf('\\') < 0)
            return body.ToString();
        var builder = new StringBuilder(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] != '\\')
            {
                builder.Append(body[i]);
                continue;
            }
            i++;
            switch (body[i])
            {
                case 'n': builder.Append('\n'); break;
                case 't': builder.Append('\t'); break;
                case 'r': builder.Append('\r'); break;
                case 'u':
                    builder.Append((char)int.Parse(body.Slice(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 4;
                    break;
                default: builder.Append(body[i]); break;
            }
        }
        return builder.ToString();
    }

    /// <summary>Writes text so that <see cref="Decode"/> reads it back unchanged.</summary>
    public static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\t': builder.Append("\\t"); break;
                case '\r': builder.Append("\\r"); break;
                default:
                    if (char.IsControl(c))
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        builder.Append(c);
                    break;
            }
        }
        return builder.Append('"').ToString();
    }
}
