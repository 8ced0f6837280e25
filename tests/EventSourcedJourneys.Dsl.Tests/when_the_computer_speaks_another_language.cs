using System.Globalization;
using EventSourcedJourneys.Dsl.Formatting;
using EventSourcedJourneys.Dsl.Runtime;
using EventSourcedJourneys.Dsl.Tests.Examples;
using static EventSourcedJourneys.Dsl.Tests.Contacts;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>Rules mean the same on every server: numbers, dates and keywords never depend on the process's culture
/// (German writes 99,90; Turkish upper-cases i to İ).</summary>
public class when_the_computer_speaks_another_language
{
    static T InCulture<T>(string name, Func<T> action)
    {
        var (culture, ui) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(name);
        try
        {
            return action();
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (culture, ui);
        }
    }

    static (bool, bool, bool, string) Evaluate()
    {
        var text = "segment s = traits.total > 99.90 and traits.since < 9d ago\n" + ExampleFiles.IssueExamples;
        var document = RuleCompiler.Compile(text).Document!;
        var segment = document.FindSegment("s")!;
        static ContactSnapshot With(string total) => Contact().WithTraits(("total", Value.Of(total)), ("since", Value.Of("2026-11-30T23:00:00Z")));
        RuleFormatter.TryFormat(text, out var formatted, out _);
        return (segment.Contains(With("100.5"), Now), segment.Contains(With("100,5"), Now), segment.Contains(With("99.9"), Now), formatted);
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("tr-TR")]
    [InlineData("ar-SA")]
    public void numbers_dates_keywords_and_formatting_read_the_same(string culture)
    {
        var invariant = InCulture("", Evaluate);

        var local = InCulture(culture, Evaluate);

        Assert.Equal((true, false, false), (invariant.Item1, invariant.Item2, invariant.Item3));
        Assert.Equal(invariant, local);
    }
}
