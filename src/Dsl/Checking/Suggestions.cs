namespace EventSourcedJourneys.Dsl.Checking;

/// <summary>"Did you mean …?" by edit distance, for names a marketer may have mistyped.</summary>
static class Suggestions
{
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
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

    static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 3)
            return int.MaxValue;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
