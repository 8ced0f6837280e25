using EventSourcedJourneys.Dsl.Tests.Examples;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>Data-driven cases from Examples/diagnostics.cases: rules text and the exact diagnostics a
/// marketer sees for it, with line and column.</summary>
public class when_reporting_diagnostics
{
    public static TheoryData<string, string[]> Cases()
    {
        var data = new TheoryData<string, string[]>();
        var lines = new List<string>();
        var expected = new List<string>();
        foreach (var line in ExampleFiles.Read("diagnostics.cases").Split('\n'))
        {
            if (line == "---")
            {
                data.Add(string.Join("\n", lines), expected.ToArray());
                lines.Clear();
                expected.Clear();
            }
            else if (line.StartsWith("==> ", StringComparison.Ordinal))
                expected.Add(line[4..]);
            else if (!(lines.Count == 0 && (line.StartsWith('#') || line.Length == 0)))
                lines.Add(line);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void each_case_reports_exactly_the_expected_diagnostics(string text, string[] expected) =>
        Assert.Equal(expected, RuleCompiler.Compile(text).Diagnostics.Select(d => d.ToString()));
}
