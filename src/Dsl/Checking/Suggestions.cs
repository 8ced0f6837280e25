namespace EventSourcedJourneys.Dsl.Checking;

/// <summary>"Did you mean …?" by edit distance, for names a marketer may have mistyped.</summary>
static class Suggestions
{
    /// <summary>Longer names are not mistyped words; comparing them would cost length² per candidate.</summary>
    const int LongestSuggested = 64;

    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        if (name.Length > LongestSuggested)
            return null;
        var limit = Math.Max(1, Math.Min(3, name.Length / 3));
        return candidates
            .Select(c => (Candidate: c, Distance: Distance(name, c)))
            .Where(c => c.Distance <= limit)
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.Candidate, StringComparer.Ordinal)
            .Select(c => c.Candidate)
            .FirstOrDefault();
    }

    public static string DidYouMean(string name, IEnumerable<string> candidates) =>
        Closest(name, candidates) is { } closest ? $"; did you mean `{closest}`?" : "";

    /// <summary>Edits needed to turn one name into the other (insert, delete, substitute, or swap two
    /// neighbours, the commonest typo), ignoring case.</summary>
    static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 3)
            return int.MaxValue;
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = Same(a[i - 1], b[j - 1]) ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && Same(a[i - 1], b[j - 2]) && Same(a[i - 2], b[j - 1]))
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }

    static bool Same(char x, char y) => char.ToLowerInvariant(x) == char.ToLowerInvariant(y);
}
