using System.Text;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>Inputs shaped to hit worst cases, each filled up to the document limit: every one must be
/// answered within a second of CPU. Not run beside other tests, which would compete for the two cores.</summary>
[Collection(nameof(WorstCaseInputs))]
public class when_compiling_documents_at_the_size_limit
{
    static string Fill(string head, string repeated, string tail = "")
    {
        var builder = new StringBuilder(head);
        while (builder.Length + repeated.Length + tail.Length <= RuleCompiler.MaxDocumentLength)
            builder.Append(repeated);
        return builder.Append(tail).ToString();
    }

    static string Circles()
    {
        var builder = new StringBuilder();
        for (var i = 0; ; i++)
        {
            var line = $"segment s{i} = segment s{i + 1} or segment s0\n";
            if (builder.Length + line.Length > RuleCompiler.MaxDocumentLength)
                return builder.ToString();
            builder.Append(line);
        }
    }

    public static TheoryData<string, string> Worst() => new()
    {
        { "opening parentheses", Fill("segment s = ", "(") },
        { "nots", Fill("segment s = ", "not ", "traits.a exists") },
        { "a flat chain of and", Fill("segment s = traits.a = 1", " and traits.b != \"x\"") },
        { "a flat chain of or", Fill("segment s = traits.a = 1", " or event \"e\" where properties.x > 3 in last 7d") },
        { "unterminated texts", Fill("", "segment s = traits.a = \"open\n") },
        { "lone quotes", Fill("", "\"") },
        { "control characters", Fill("", "\u0001 \u0002") },
        { "rule words only", Fill("", "trigger ") },
        { "segment chain", string.Concat(Enumerable.Range(0, 9_000).Select(i => $"segment s{i} = segment s{i + 1}\n"))[..RuleCompiler.MaxDocumentLength] },
        { "triggers with every mistake", Fill("", "trigger t on event \"\" wait 0s send fax \"\" at most 0 per 0d\n") },
        // Each unknown name is compared with every segment for a "did you mean".
        { "unknown references among thousands of segments", Fill(
            string.Concat(Enumerable.Range(0, 4_000).Select(i => $"segment s{i} = traits.a exists\n")) + "segment z = segment q", " or segment q") },
        { "misspellings of very long names", string.Concat(Enumerable.Range(0, 100).Select(i => $"segment {new string('n', 1_200)}{i} = traits.a exists\n"))
            + "segment z = segment " + string.Join(" or segment ", Enumerable.Range(0, 100).Select(i => $"{new string('n', 1_199)}m{i}")) },
        // Every segment also refers back to the first: thousands of circles, each thousands of segments long.
        { "circles through thousands of segments", Circles() },
    };

    [Theory]
    [MemberData(nameof(Worst))]
    public void a_worst_case_document_is_answered_within_a_second(string shape, string text)
    {
        Assert.InRange(text.Length, 1, RuleCompiler.MaxDocumentLength);

        CompilationResult result = null!;
        var cpu = ThreadCpuTime.Measure(() => result = RuleCompiler.Compile(text));

        Assert.True(cpu < TimeSpan.FromSeconds(1), $"{shape} took {cpu} of CPU");
        Assert.All(result.Diagnostics, d => Assert.NotEqual(Diagnostics.DiagnosticCodes.InternalError, d.Code));
        if (result.Document is { } document)
            Assert.All(document.Segments, s => s.Contains(Contacts.Contact(), Contacts.Now));
    }
}

[CollectionDefinition(nameof(WorstCaseInputs), DisableParallelization = true)]
public sealed class WorstCaseInputs;
