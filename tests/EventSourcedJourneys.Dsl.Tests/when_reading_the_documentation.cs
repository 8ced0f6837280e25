using System.Text.RegularExpressions;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>Every complete example in docs/dsl.md compiles, so the reference cannot drift from the language.</summary>
public partial class when_reading_the_documentation
{
    static readonly string[] RuleWords = ["segment ", "trigger ", "policy ", "funnel "];

    static string Documentation()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var path = Path.Combine(directory.FullName, "docs", "dsl.md");
            if (File.Exists(path))
                return File.ReadAllText(path);
        }
        throw new FileNotFoundException("docs/dsl.md was not found above the test directory.");
    }

    public static TheoryData<string> CompleteExamples()
    {
        var data = new TheoryData<string>();
        foreach (Match block in FencedBlock().Matches(Documentation()))
        {
            var code = block.Groups["code"].Value;
            var firstLine = code.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#')) ?? "";
            if (block.Groups["lang"].Value.Length == 0 && RuleWords.Any(firstLine.StartsWith))
                data.Add(code);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CompleteExamples))]
    public void each_complete_example_compiles(string example)
    {
        var result = RuleCompiler.Compile(example);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
    }

    [Fact]
    public void the_reference_has_complete_examples_to_check() => Assert.True(CompleteExamples().Count >= 4);

    [GeneratedRegex("```(?<lang>[a-z]*)\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex FencedBlock();
}
