using BenchmarkDotNet.Attributes;
using EventSourcedJourneys.Dsl;

namespace EventSourcedJourneys.Bench;

public class CompileBenchmarks
{
    string _thousandRules = "";

    [GlobalSetup]
    public void Setup()
    {
        _thousandRules = RulesFixture.ThousandRules();
        var result = RuleCompiler.Compile(_thousandRules);
        Console.WriteLine($"// 1,000-rule document: {_thousandRules.Length:N0} characters");
        if (!result.Succeeded || result.Rules.Count != 1_000)
            throw new InvalidOperationException(string.Join("\n", result.Diagnostics.Take(5)));
    }

    /// <summary>Parse, check and compile a generated 1,000-rule document of about 230,000 characters.</summary>
    [Benchmark]
    public CompilationResult ParseCheckAndCompileThousandRules() => RuleCompiler.Compile(_thousandRules);
}
